using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// Instruments of the webhook edge, scraped at /metrics (Observability/). Tags are constant strings chosen from
/// small fixed sets, so recording allocates nothing and the series count stays bounded whatever senders send.
/// </summary>
internal sealed class WebhookMetrics
{
    public const string MeterName = "WebhookReceiver.Webhooks";

    /// <summary>1–100 ms is where a healthy ack lives; the upper buckets show a struggling database.</summary>
    private static readonly double[] AckBuckets = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

    // Positions of Webhooks:SigningSecrets as tag values, made once (never the secrets themselves).
    private static readonly string[] SecretPositions = Enumerable.Range(0, 16).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private readonly Counter<long> _received;
    private readonly Counter<long> _authFailures;
    private readonly Counter<long> _authenticated;
    private readonly Counter<long> _outOfOrder;
    private readonly Histogram<double> _ackSeconds;

    public WebhookMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _received = meter.CreateCounter<long>("webhookreceiver.webhooks.received", description: "Webhook requests by result");
        _authFailures = meter.CreateCounter<long>("webhookreceiver.webhooks.auth_failures", description: "Authentication failures by reason");
        _authenticated = meter.CreateCounter<long>("webhookreceiver.webhooks.authenticated",
            description: "Authenticated webhook requests by method (signature, basic, none) and, for signatures, the position of the matching secret");
        _outOfOrder = meter.CreateCounter<long>("webhookreceiver.webhooks.out_of_order",
            description: "Accepted events whose created_at is older than the call's latest event");
        _ackSeconds = meter.CreateHistogram("webhookreceiver.webhooks.ack_duration", unit: "s",
            description: "Time from the webhook request reaching its endpoint to the answer",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = AckBuckets });
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

    /// <param name="startedAt">A <see cref="Stopwatch.GetTimestamp"/> taken when the request reached the endpoint.</param>
    public void Answered(long startedAt) => _ackSeconds.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds);
}
