using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using WebhookReceiver.ApiDocs;
using WebhookReceiver.Delivery;
using WebhookReceiver.Operators;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Observability;

/// <summary>
/// /metrics in Prometheus text format: the service's own System.Diagnostics.Metrics instruments exported
/// through OpenTelemetry. Operator-only (the series name integrations and reveal traffic volumes).
/// </summary>
internal static class MetricsSetup
{
    public static IHostApplicationBuilder AddMetricsEndpoint(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics.AddMeter(WebhookMetrics.MeterName, DeliveryMetrics.MeterName, AspNetCoreHostingMeter);
            ((IDeferredMeterProviderBuilder)metrics).Configure((services, b) =>
            {
                var ownFactory = services.GetRequiredService<IMeterFactory>();
                b.AddView(instrument => View(instrument, ownFactory));
            });
            metrics.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
        });
        return builder;
    }

    /// <summary>ASP.NET Core's server metrics: http.server.request.duration is the ack latency of the webhook route.</summary>
    public const string AspNetCoreHostingMeter = "Microsoft.AspNetCore.Hosting";

    /// <summary>1–100 ms is where a healthy ack lives; the upper buckets show a struggling database.</summary>
    private static readonly double[] LatencyBuckets = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static MetricStreamConfiguration? View(Instrument instrument, IMeterFactory ownFactory)
    {
        // OpenTelemetry picks meters by name only, so it would also export the same-named instruments of any
        // other host in this process (tests run several): keep the ones this host's IMeterFactory created.
        if (instrument.Meter.Scope is not null && !ReferenceEquals(instrument.Meter.Scope, ownFactory))
        {
            return MetricStreamConfiguration.Drop;
        }
        if (instrument.Meter.Name == AspNetCoreHostingMeter)
        {
            // Only the request duration; the hosting meter's other instruments (active requests…) are not asked for.
            return instrument.Name == "http.server.request.duration"
                ? new ExplicitBucketHistogramConfiguration { Boundaries = LatencyBuckets }
                : MetricStreamConfiguration.Drop;
        }
        return null;
    }

    public static IEndpointRouteBuilder MapMetricsEndpoint(this IEndpointRouteBuilder app)
    {
        // Observable gauges exist once their owner does: create it with the host, not on first use.
        app.ServiceProvider.GetRequiredService<DeliveryMetrics>();
        app.ServiceProvider.GetRequiredService<StaleCalls.StaleCallMetrics>();
        app.MapGroup("").RequireOperator().MapPrometheusScrapingEndpoint("/metrics")
            .WithName("GetMetrics").WithSummary("Prometheus metrics (text exposition format)").WithTags("Operators")
            .DocumentResponse(StatusCodes.Status200OK, "text/plain");
        return app;
    }
}
