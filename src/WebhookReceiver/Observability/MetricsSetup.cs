using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using WebhookReceiver.ApiDocs;
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
        builder.Services.AddSingleton<ActionMetrics>();
        builder.Services.AddSingleton<WorkBacklogMetrics>();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics.AddMeter(WebhookMetrics.MeterName, ActionMetrics.MeterName);
            // OpenTelemetry picks meters by name only, so it would also export the same-named instruments of any
            // other host in this process (tests run several): keep the ones this host's IMeterFactory created.
            ((IDeferredMeterProviderBuilder)metrics).Configure((services, b) =>
            {
                var ownFactory = services.GetRequiredService<IMeterFactory>();
                b.AddView(instrument => instrument.Meter.Scope is null || ReferenceEquals(instrument.Meter.Scope, ownFactory)
                    ? null
                    : MetricStreamConfiguration.Drop);
            });
            metrics.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
        });
        return builder;
    }

    public static IEndpointRouteBuilder MapMetricsEndpoint(this IEndpointRouteBuilder app)
    {
        // Observable gauges exist once their owner does: create it with the host, not on first use.
        app.ServiceProvider.GetRequiredService<WorkBacklogMetrics>();
        app.MapGroup("").RequireOperator().DocumentOperatorAccess().MapPrometheusScrapingEndpoint("/metrics")
            .WithName("GetMetrics").WithSummary("Prometheus metrics (text exposition format)").WithTags("Operators")
            .DocumentResponse(StatusCodes.Status200OK, "text/plain");
        return app;
    }
}
