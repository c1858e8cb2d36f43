using System.Diagnostics;
using Npgsql;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace WebhookReceiver.Observability;

/// <summary>
/// Traces over OTLP, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set (the standard OTEL_* variables choose protocol,
/// headers, sampler and batching). Off, no tracer provider exists at all: nothing listens to our source or to
/// ASP.NET Core's, HttpClient's and Npgsql's, so the hot path does no tracing work (README "Observability").
/// </summary>
internal static class Tracing
{
    public const string SourceName = "WebhookReceiver";

    /// <summary>The variable that turns tracing on (also read as configuration, so appsettings may set it too).</summary>
    public const string EndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    private const string AspNetCoreSource = "Microsoft.AspNetCore";

    private static readonly string? ServiceVersion = typeof(Tracing).Assembly.GetName().Version?.ToString();

    public static IHostApplicationBuilder AddTracing(this IHostApplicationBuilder builder)
    {
        var enabled = !string.IsNullOrWhiteSpace(builder.Configuration[EndpointKey]);
        builder.Services.AddSingleton(new TraceContext(enabled));
        // Traces and /metrics' target_info name the service, unless OTEL_SERVICE_NAME does (a name set here would win).
        var telemetry = builder.Services.AddOpenTelemetry();
        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"]))
        {
            telemetry.ConfigureResource(r => r.AddService("webhookreceiver", serviceVersion: ServiceVersion));
        }
        if (!enabled)
        {
            return builder;
        }
        telemetry.WithTracing(tracing => tracing
            .AddSource(SourceName)
            // ASP.NET Core's own activity source, not OpenTelemetry.Instrumentation.AspNetCore: measured in bench/run.sh's
            // tracing phase with nothing sampled, the instrumentation package cost ~20 % more CPU per webhook and the bare
            // source nothing measurable. Its few tags are added by UseTracing, for sampled requests only.
            .AddSource(AspNetCoreSource)
            .AddHttpClientInstrumentation()
            .AddNpgsql()
            .AddOtlpExporter());
        return builder;
    }

    /// <summary>
    /// The server span's name and tags (OpenTelemetry's HTTP conventions), set on sampled requests only; probes and
    /// scrapes are not recorded (every few seconds, they would bury the traces worth reading). Nothing when tracing is off.
    /// </summary>
    public static IApplicationBuilder UseTracing(this IApplicationBuilder app)
    {
        if (!app.ApplicationServices.GetRequiredService<TraceContext>().Enabled)
        {
            return app;
        }
        return app.Use(static async (context, next) =>
        {
            var activity = Activity.Current;
            if (activity is not { IsAllDataRequested: true } || activity.Source.Name != AspNetCoreSource)
            {
                await next(context);
                return;
            }
            var path = context.Request.Path;
            if (path.StartsWithSegments("/health") || path.StartsWithSegments("/metrics"))
            {
                // Unsampled after the fact: the SDK exports only activities that ask for all data and are recorded.
                activity.IsAllDataRequested = false;
                activity.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
                await next(context);
                return;
            }
            try
            {
                await next(context);
            }
            finally
            {
                var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
                activity.DisplayName = route is null ? context.Request.Method : $"{context.Request.Method} {route}";
                activity.SetTag("http.request.method", context.Request.Method).SetTag("http.route", route)
                    .SetTag("url.path", path.Value).SetTag("http.response.status_code", context.Response.StatusCode);
                if (context.Response.StatusCode >= 500)
                {
                    activity.SetStatus(ActivityStatusCode.Error);
                }
            }
        });
    }
}

/// <summary>
/// This host's tracing: whether it is on, the stored form of a request's context, and our own spans. Every method is a
/// no-op (no allocation) while tracing is off; several hosts in one process (tests) each keep their own switch.
/// </summary>
internal sealed class TraceContext(bool enabled)
{
    private static readonly ActivitySource Source = new(Tracing.SourceName);

    public bool Enabled => enabled;

    /// <summary>
    /// The current request's W3C traceparent when it is sampled (recorded), for its outbox rows; null otherwise, so an
    /// unsampled request costs nothing and a job never continues a trace nobody records.
    /// </summary>
    public string? CurrentParent() => enabled && Activity.Current is { Recorded: true } current ? current.Id : null;

    /// <summary>
    /// One span per group-commit batch holding at least one sampled request: a child of the first of them (so the
    /// sampler keeps it whenever a request it answers was kept), linked to every sampled request it commits.
    /// A batch of unsampled requests gets no span: it would be a root with no trace worth joining.
    /// </summary>
    public Activity? StartIngestBatch<T>(List<T> batch, Func<T, string?> parentOf)
    {
        if (!enabled || !Source.HasListeners())
        {
            return null;
        }
        List<ActivityLink>? links = null;
        foreach (var item in batch)
        {
            if (Parse(parentOf(item)) is { } context)
            {
                (links ??= []).Add(new ActivityLink(context));
            }
        }
        if (links is null)
        {
            return null;
        }
        var activity = Source.StartActivity("ingest batch", ActivityKind.Internal, links[0].Context, links: links);
        activity?.SetTag("webhookreceiver.batch.size", batch.Count);
        return activity;
    }

    /// <summary>A claim that handed work out, timed from <paramref name="startedAt"/> (claims that found nothing leave no span).</summary>
    public void RecordClaim(string action, int count, int reowned, Guid lease, DateTimeOffset startedAt)
    {
        if (!enabled)
        {
            return;
        }
        using var activity = Source.StartActivity("dispatch claim", ActivityKind.Internal, parentContext: default, startTime: startedAt);
        activity?.SetTag("webhookreceiver.action", action).SetTag("webhookreceiver.claimed", count)
            .SetTag("webhookreceiver.reowned", reowned).SetTag("webhookreceiver.lease", lease.ToString());
    }

    /// <summary>One run of a batch job; the sends below link to it.</summary>
    public Activity? StartJob(string destination, Guid lease, string? jobId, int actions)
    {
        if (!enabled)
        {
            return null;
        }
        var activity = Source.StartActivity("delivery job", ActivityKind.Internal, parentContext: default);
        activity?.SetTag("webhookreceiver.destination", destination).SetTag("webhookreceiver.lease", lease.ToString())
            .SetTag("webhookreceiver.job_id", jobId).SetTag("webhookreceiver.actions", actions);
        return activity;
    }

    /// <summary>
    /// One action's send. Its parent is the webhook request that created the action (stored with the row), so the
    /// request, this send and the CRM / ticket request (HttpClient's span, whose traceparent the destination gets)
    /// read as one trace; a link leads to the job run that sent it, which serves many traces and so cannot be every
    /// send's parent. An action without a stored context (its request unsampled, or tracing was off) sends under the job.
    /// </summary>
    public Activity? StartSend(string action, long actionId, string callId, string? storedParent, Activity? job)
    {
        if (!enabled)
        {
            return null;
        }
        var parent = Parse(storedParent) ?? job?.Context ?? default;
        ActivityLink[]? links = job is not null && parent != job.Context ? [new ActivityLink(job.Context)] : null;
        var activity = Source.StartActivity("send " + action, ActivityKind.Internal, parent, links: links);
        activity?.SetTag("webhookreceiver.action", action).SetTag("webhookreceiver.action_id", actionId)
            .SetTag("webhookreceiver.call_id", callId);
        return activity;
    }

    /// <summary>How the send ended, on its span: the outcome as the ledger records it, an error status when it failed.</summary>
    public static void Outcome(Activity? send, Delivery.ActionOutcome outcome)
    {
        if (send is null)
        {
            return;
        }
        send.SetTag("webhookreceiver.outcome",
            outcome.Succeeded ? "succeeded" : outcome.Permanent ? "permanent_failure" : "transient_failure");
        if (!outcome.Succeeded)
        {
            send.SetStatus(ActivityStatusCode.Error, outcome.ErrorKind);
        }
    }

    private static ActivityContext? Parse(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, isRemote: true, out var context) ? context : null;
}
