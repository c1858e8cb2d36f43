using System.Diagnostics.Metrics;

namespace WebhookReceiver.Webhooks;

/// <summary>Counters an operator can scrape (issue: metrics endpoint); cheap enough for the hot path.</summary>
internal sealed class WebhookMetrics
{
    public const string MeterName = "WebhookReceiver.Webhooks";
    private readonly Counter<long> _received;
    private readonly Counter<long> _authFailures;

    public WebhookMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _received = meter.CreateCounter<long>("webhookreceiver.webhooks.received", description: "Webhook requests by result");
        _authFailures = meter.CreateCounter<long>("webhookreceiver.webhooks.auth_failures", description: "Authentication failures by reason");
    }

    public void Received(string result) => _received.Add(1, new KeyValuePair<string, object?>("result", result));

    public void AuthFailed(string reason)
    {
        _authFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));
        Received("unauthorized");
    }
}
