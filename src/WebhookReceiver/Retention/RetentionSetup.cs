using Hangfire;
using Microsoft.Extensions.Options;
using WebhookReceiver.Hosting;

namespace WebhookReceiver.Retention;

internal static class RetentionSetup
{
    public const string RecurringJobId = "retention.purge";

    public static IHostApplicationBuilder AddRetention(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<RetentionPurge>();
        builder.Services.AddScoped<RetentionJob>();
        if (builder.Configuration.Role().RunsWorkers())
        {
            builder.Services.AddHostedService<RetentionSchedule>();
        }
        return builder;
    }
}

/// <summary>The Hangfire job: Retention:* as configured now. Two runs at once are harmless (SKIP LOCKED batches).</summary>
internal sealed class RetentionJob(RetentionPurge purge, IOptionsMonitor<RetentionOptions> options)
{
    [System.ComponentModel.DisplayName("Retention: purge old events and quarantined bodies")]
    public Task RunAsync(CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        return purge.PurgeAsync(o.Days, o.KeepFailedDays, o.BatchSize, cancellationToken);
    }
}

/// <summary>
/// Registers (or removes, when Retention:Days ≤ 0) the recurring job through this host's own
/// IRecurringJobManager (its JobStorage, never Hangfire's statics). Retries until the database answers, so a
/// process can start while PostgreSQL is down.
/// </summary>
internal sealed class RetentionSchedule(
    IRecurringJobManager recurringJobs, IOptions<RetentionOptions> options, ILogger<RetentionSchedule> logger)
    : BackgroundService
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
                    recurringJobs.AddOrUpdate<RetentionJob>(RetentionSetup.RecurringJobId, j => j.RunAsync(CancellationToken.None),
                        o.Schedule, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
                    logger.LogInformation(
                        "Retention: events and quarantined bodies older than {Days} days are purged on schedule {Schedule} (UTC)",
                        o.Days, o.Schedule);
                }
                else
                {
                    recurringJobs.RemoveIfExists(RetentionSetup.RecurringJobId);
                    logger.LogInformation("Retention: disabled (Retention:Days = {Days}); events are kept forever", o.Days);
                }
                return;
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
            {
                logger.LogWarning("Retention schedule not registered yet, retrying: {Error}", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(10), stoppingToken);
            }
        }
    }
}
