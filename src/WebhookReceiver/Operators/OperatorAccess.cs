using Microsoft.Extensions.Options;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Operators;

/// <summary>What the operator check decided; the filter turns each refusal into its answer (403, 401, 429).</summary>
internal enum OperatorVerdict
{
    Granted,
    CrossSite,
    NotLocal,
    Unauthorized,
    TooManyFailedLogins,
}

/// <summary>
/// The one check every operator surface makes (API, console, API document, /metrics and the Hangfire dashboard, all
/// through <see cref="OperatorAccessFilter"/>). Call records hold phone numbers, so they are never public: with
/// Dashboard credentials configured every operator request must carry them (HTTP Basic); without, only local requests
/// are served (<see cref="LocalRequests"/>).
/// </summary>
internal sealed class OperatorAccess(IOptions<OperatorOptions> options, FailedLogins failedLogins)
{
    private readonly BasicCredentials? _credentials =
        options.Value.IsConfigured ? new BasicCredentials(options.Value.Username!, options.Value.Password!) : null;

    public bool CredentialsRequired => _credentials is not null;

    public OperatorVerdict Check(HttpContext context, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (CrossSite(context.Request))
        {
            return OperatorVerdict.CrossSite;
        }
        if (_credentials is null)
        {
            return LocalRequests.IsLocal(context) ? Grant(context) : OperatorVerdict.NotLocal;
        }
        // Before the password is compared: an address out of failed logins learns nothing from further guesses.
        if (failedLogins.Exhausted(context, out retryAfter))
        {
            return OperatorVerdict.TooManyFailedLogins;
        }
        var authorization = context.Request.Headers.Authorization;
        if (_credentials.Matches(authorization))
        {
            return Grant(context);
        }
        // A request without credentials guesses nothing (a browser's first request, before it asks for them).
        if (authorization.Count > 0)
        {
            failedLogins.Record(context);
        }
        return OperatorVerdict.Unauthorized;
    }

    /// <summary>Whether <see cref="Check"/> granted this request (Hangfire's own authorization asks).</summary>
    public static bool Granted(HttpContext context) => context.Features.Get<OperatorGrant>() is not null;

    /// <summary>Who is asking, for the audit log: the Basic user name, or "local" when no credentials are configured.</summary>
    public static string Name(HttpContext context)
    {
        // Without configured credentials nothing checks the header: a name taken from it could be anyone's.
        if (context.RequestServices.GetService<OperatorAccess>() is not { CredentialsRequired: true })
        {
            return "local";
        }
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0)
                {
                    return decoded[..colon];
                }
            }
            catch (FormatException)
            {
                // Not base64: fall through.
            }
        }
        return "local";
    }

    /// <summary>
    /// Sec-Fetch-Site (every current browser) or, failing that, an Origin that is not this host. Tools such as
    /// curl send neither and are not affected.
    /// </summary>
    private static bool CrossSite(HttpRequest request)
    {
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0)
        {
            return site is not ("same-origin" or "none");
        }
        var origin = request.Headers.Origin.ToString();
        return origin.Length > 0 && !(Uri.TryCreate(origin, UriKind.Absolute, out var uri)
                                      && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase));
    }

    private static OperatorVerdict Grant(HttpContext context)
    {
        context.Features.Set(OperatorGrant.Instance);
        return OperatorVerdict.Granted;
    }

    private sealed class OperatorGrant
    {
        public static readonly OperatorGrant Instance = new();
    }
}
