using Serilog;
using Serilog.Formatting.Compact;

namespace WebhookReceiver.Hosting;

internal static class Logging
{
    public static IHostApplicationBuilder AddLogging(this IHostApplicationBuilder builder)
    {
        var development = builder.Environment.IsDevelopment();
        // Tests capture events through an ILogEventSink instead of reading the console.
        var console = builder.Configuration.GetValue("Logging:Console", defaultValue: true);
        // preserveStaticLogger: several hosts in one test process must not share (and freeze) Log.Logger.
        builder.Services.AddSerilog((services, lc) =>
        {
            lc.ReadFrom.Configuration(builder.Configuration)
                .ReadFrom.Services(services)
                .Enrich.FromLogContext();
            if (!console)
            {
                return;
            }
            if (development)
            {
                // Serilog takes TraceId/SpanId from Activity.Current with every event (JSON: @tr, @sp).
                lc.WriteTo.Console(outputTemplate:
                    "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj} {Properties:j} {TraceId} {SpanId}{NewLine}{Exception}");
            }
            else
            {
                lc.WriteTo.Console(new RenderedCompactJsonFormatter());
            }
        }, preserveStaticLogger: true);
        return builder;
    }

    public static IApplicationBuilder UseRequestLogging(this IApplicationBuilder app) =>
        app.UseSerilogRequestLogging(o =>
        {
            // The host's logger, not the static Log.Logger (kept silent by preserveStaticLogger).
            o.Logger = app.ApplicationServices.GetRequiredService<Serilog.ILogger>();
            // Only the path: query strings of operator endpoints may carry phone numbers or customer IDs.
            o.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms";
            o.GetLevel = (ctx, _, ex) => ex is not null || ctx.Response.StatusCode >= 500 ? Serilog.Events.LogEventLevel.Error
                // An acknowledged webhook is recorded in PostgreSQL with its arrival time; a log line per event
                // would only cost the hot path (thousands a second). Refusals and everything else stay visible.
                : ctx.Response.StatusCode < 300 && ctx.Request.Path.StartsWithSegments("/webhooks") ? Serilog.Events.LogEventLevel.Debug
                : Serilog.Events.LogEventLevel.Information;
        });
}
