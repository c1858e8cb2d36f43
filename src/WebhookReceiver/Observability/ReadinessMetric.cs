using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WebhookReceiver.Observability;

/// <summary>
/// /health/ready as a series (webhookreceiver_health_ready, 1 or 0), so an alert needs no probe of its own: the
/// readiness checks run every <see cref="Period"/> in the background and the gauge shows the last result (nothing
/// until the first run). A probe of /health/ready still runs its checks itself; this adds one SELECT 1 and one Hangfire
/// storage read per period and process.
/// </summary>
internal sealed class ReadinessMetric : IHealthCheckPublisher
{
    public const string MeterName = "WebhookReceiver.Health";
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(15);

    private int _ready = -1;

    public ReadinessMetric(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("webhookreceiver.health.ready", Observe,
            description: "1 while the readiness checks (PostgreSQL, Hangfire's storage) pass, 0 while one fails");
    }

    public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _ready, report.Status == HealthStatus.Healthy ? 1 : 0);
        return Task.CompletedTask;
    }

    private IEnumerable<Measurement<int>> Observe() => Volatile.Read(ref _ready) is var ready and >= 0 ? [new Measurement<int>(ready)] : [];
}
