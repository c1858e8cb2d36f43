using Microsoft.Extensions.Options;

namespace WebhookReceiver.Webhooks;

/// <summary>A request passes when it satisfies any configured method (signature or Basic).</summary>
internal sealed class WebhookAuthenticator
{
    private readonly StandardWebhookVerifier _signatures;
    private readonly BasicCredentials? _basic;
    private readonly bool _allowUnauthenticated;
    private readonly WebhookMetrics _metrics;

    public WebhookAuthenticator(IOptions<WebhookOptions> options, TimeProvider clock, WebhookMetrics metrics)
    {
        _metrics = metrics;
        var o = options.Value;
        _signatures = new StandardWebhookVerifier(o.ConfiguredSecrets, TimeSpan.FromSeconds(o.TimestampToleranceSeconds), clock);
        _basic = o.BasicAuth.IsConfigured ? new BasicCredentials(o.BasicAuth.Username!, o.BasicAuth.Password!) : null;
        _allowUnauthenticated = !o.HasAuthentication && o.AllowUnauthenticated;
    }

    /// <summary>The method when no credential was asked for (Webhooks:AllowUnauthenticated).</summary>
    public const string MethodNone = "none";

    public const string MethodBasic = "basic";

    // "signature:<position in Webhooks:SigningSecrets>", made once: never the secret, and no string per request.
    private static readonly string[] SignatureMethods =
        Enumerable.Range(0, 16).Select(i => "signature:" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    /// <returns>null when authenticated, else the reason (for logs and counters only, never for the caller).</returns>
    /// <param name="method">How the request was let in (kept with the event: README "Request inspection"); null when refused.</param>
    public string? Authenticate(IHeaderDictionary headers, ReadOnlySpan<byte> body, out string? method)
    {
        method = null;
        if (_allowUnauthenticated)
        {
            _metrics.AuthenticationDisabled();
            method = MethodNone;
            return null;
        }
        if (_basic is not null && _basic.Matches(headers.Authorization))
        {
            _metrics.AuthenticatedByBasic();
            method = MethodBasic;
            return null;
        }
        if (!_signatures.IsConfigured)
        {
            return "basic_auth_failed";
        }
        var result = _signatures.Verify(
            WebhookHeaders.Id(headers), WebhookHeaders.Timestamp(headers), WebhookHeaders.Signature(headers), body, out var secret);
        if (result == SignatureResult.Valid)
        {
            _metrics.AuthenticatedBySignature(secret);
            method = secret < SignatureMethods.Length ? SignatureMethods[secret] : "signature:" + secret;
            return null;
        }
        return result switch
        {
            SignatureResult.MissingHeaders => "signature_missing",
            SignatureResult.BadTimestamp => "timestamp_invalid",
            SignatureResult.OutsideTolerance => "timestamp_outside_tolerance",
            SignatureResult.Malformed => "signature_malformed",
            _ => "signature_mismatch",
        };
    }
}

/// <summary>Standard Webhooks header names, with the svix-* aliases Svix-powered senders use.</summary>
internal static class WebhookHeaders
{
    public static string? Id(IHeaderDictionary h) => First(h, "webhook-id", "svix-id");
    public static string? Timestamp(IHeaderDictionary h) => First(h, "webhook-timestamp", "svix-timestamp");
    public static string? Signature(IHeaderDictionary h) => First(h, "webhook-signature", "svix-signature");

    private static string? First(IHeaderDictionary h, string name, string alias)
    {
        var value = h[name];
        if (value.Count == 0)
        {
            value = h[alias];
        }
        return value.Count == 0 ? null : value.ToString();
    }
}
