using Hangfire;
using Microsoft.Extensions.Options;
using WebhookReceiver.Hosting;

namespace WebhookReceiver.StaleCalls;

internal static class StaleCallsSetup
{
    public const string RecurringJobId = "calls.stale-sweep";

    public static IHostApplicationBuilder AddStaleCalls(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<StaleCallOptions>().BindConfiguration(StaleCallOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<StaleCallMetrics>();
        builder.Services.AddSingleton<StaleCallSweep>();
        builder.Services.AddScoped<StaleCallJob>();
        if (builder.Configuration.Role().RunsWorkers())
        {
            builder.Services.AddHostedService<StaleCallSchedule>();
        }
        return builder;
    }
}

/// <summary>The Hangfire job: Workflows:* as configured now. Two runs at once are harmless (SKIP LOCKED batches).</summary>
internal sealed class StaleCallJob(StaleCallSweep sweep, IOptionsMonitor<StaleCallOptions> options)
{
    [System.ComponentModel.DisplayName("Stale calls: mark calls whose final status never arrived")]
    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var r = await sweep.SweepAsync(options.CurrentValue, cancellationToken);
        // The job's result on its dashboard page.
        return $"{r.Marked} call(s) marked stale, {r.Tickets} ticket(s)";
    }
}

/// <summary>
/// Registers (or removes, when Workflows:StaleCallAfterMinutes ≤ 0) the recurring sweep through this host's own
/// IRecurringJobManager. Retries until the database answers, so a process can start while PostgreSQL is down.
/// </summary>
internal sealed class StaleCallSchedule(
    IRecurringJobManager recurringJobs, IOptions<StaleCallOptions> options, ILogger<StaleCallSchedule> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (o.Enabled)
                {
                    recurringJobs.AddOrUpdate<StaleCallJob>(StaleCallsSetup.RecurringJobId, j => j.RunAsync(CancellationToken.None),
                        o.StaleCallSweepSchedule, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
                    logger.LogInformation("Stale calls: calls not final {Minutes} minutes after their last event are marked on schedule "
                        + "{Schedule} (UTC); tickets for them: {Tickets}", o.StaleCallAfterMinutes, o.StaleCallSweepSchedule,
                        o.TicketOnStaleCall);
                }
                else
                {
                    recurringJobs.RemoveIfExists(StaleCallsSetup.RecurringJobId);
                    logger.LogInformation("Stale calls: sweep disabled (Workflows:StaleCallAfterMinutes = {Minutes})",
                        o.StaleCallAfterMinutes);
                }
                return;
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
            {
                logger.LogWarning("Stale-call sweep not registered yet, retrying: {Error}", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(10), stoppingToken);
            }
        }
    }
}
