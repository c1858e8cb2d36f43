using System.Diagnostics.Metrics;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// Instruments of the webhook edge, scraped at /metrics (Observability/). Tags are constant strings chosen from
/// small fixed sets, so recording allocates nothing and the series count stays bounded whatever senders send.
/// The ack latency is ASP.NET Core's own http.server.request.duration for the webhook route (Observability/),
/// measured by the server from request to response anyway: timing it again here would only add work.
/// </summary>
internal sealed class WebhookMetrics
{
    public const string MeterName = "WebhookReceiver.Webhooks";

    // Positions of Webhooks:SigningSecrets as tag values, made once (never the secrets themselves).
    private static readonly string[] SecretPositions =
        Enumerable.Range(0, 16).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private readonly Counter<long> _received;
    private readonly Counter<long> _authFailures;
    private readonly Counter<long> _authenticated;
    private readonly Counter<long> _outOfOrder;

    public WebhookMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _received = meter.CreateCounter<long>("webhookreceiver.webhooks.received", description: "Webhook requests by result");
        _authFailures = meter.CreateCounter<long>("webhookreceiver.webhooks.auth_failures",
            description: "Authentication failures by reason");
        _authenticated = meter.CreateCounter<long>("webhookreceiver.webhooks.authenticated",
            description: "Authenticated webhook requests by method (signature, basic, none) and, for signatures, " +
                "the position of the matching secret");
        _outOfOrder = meter.CreateCounter<long>("webhookreceiver.webhooks.out_of_order",
            description: "Accepted events whose created_at is older than the call's latest event");
    }

    public void Received(string result) => _received.Add(1, new KeyValuePair<string, object?>("result", result));

    public void AuthFailed(string reason)
    {
        _authFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));
        Received("unauthorized");
    }

    public void AuthenticatedBySignature(int secretPosition) => _authenticated.Add(1,
        new KeyValuePair<string, object?>("method", "signature"),
        new KeyValuePair<string, object?>("secret", secretPosition < SecretPositions.Length ? SecretPositions[secretPosition] : "other"));

    public void AuthenticatedByBasic() => _authenticated.Add(1,
        new KeyValuePair<string, object?>("method", "basic"), new KeyValuePair<string, object?>("secret", "none"));

    public void AuthenticationDisabled() => _authenticated.Add(1,
        new KeyValuePair<string, object?>("method", "none"), new KeyValuePair<string, object?>("secret", "none"));

    public void OutOfOrder() => _outOfOrder.Add(1);
}
