using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;
using WebhookReceiver.ApiDocs;
using WebhookReceiver.Delivery;
using WebhookReceiver.Operators;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Observability;

/// <summary>
/// /metrics in Prometheus text format: the service's own System.Diagnostics.Metrics instruments, the runtime's (GC,
/// thread pool), HttpClient's and Npgsql's (connection pool), exported through OpenTelemetry. Operator-only (the
/// series name integrations and reveal traffic volumes). The exporter's choice: README "Observability".
/// </summary>
internal static class MetricsSetup
{
    public static IHostApplicationBuilder AddMetricsEndpoint(this IHostApplicationBuilder builder)
    {
        AddReadinessMetric(builder.Services);
        builder.Services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics.AddMeter(WebhookMetrics.MeterName, DeliveryMetrics.MeterName, ReadinessMetric.MeterName, AspNetCoreHostingMeter,
                RuntimeMeter, HttpClientMeter, NpgsqlMeter);
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

    /// <summary>.NET's built-in runtime meter (.NET 9+): GC, heap, thread pool, CPU, exceptions, lock contention.</summary>
    public const string RuntimeMeter = "System.Runtime";

    /// <summary>HttpClient's own meter: the CRM, ticket, MiniVoice and alert requests (durations, connections).</summary>
    public const string HttpClientMeter = "System.Net.Http";

    /// <summary>Npgsql's meter: the connection pool (in use, idle, max, pending opens, timeouts) and command durations.</summary>
    public const string NpgsqlMeter = "Npgsql";

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

    private static IServiceCollection AddReadinessMetric(IServiceCollection services)
    {
        services.AddSingleton<IHealthCheckPublisher, ReadinessMetric>();
        services.Configure<HealthCheckPublisherOptions>(o =>
        {
            o.Predicate = c => c.Tags.Contains("ready");
            o.Delay = TimeSpan.FromSeconds(1);
            o.Period = ReadinessMetric.Period;
        });
        return services;
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
