using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.Common;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.Extensions.Options;
using WebhookReceiver.ApiDocs;
using WebhookReceiver.Data;
using WebhookReceiver.Hosting;
using WebhookReceiver.Operators;

namespace WebhookReceiver.Jobs;

internal static class JobsSetup
{
    public static IHostApplicationBuilder AddJobs(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<JobsOptions>().BindConfiguration(JobsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        // Storage, activator and filters are this host's own, registered before AddHangfire so its
        // static fallbacks (JobStorage.Current, JobActivator.Current, GlobalJobFilters) are never used:
        // several hosts in one process (tests) must not share them.
        var connectionString = builder.Configuration.GetConnectionString("Postgres")!;
        services.AddSingleton<JobStorage>(sp => CreateStorage(connectionString, sp.GetRequiredService<IOptions<JobsOptions>>().Value));
        services.AddSingleton<JobActivator>(sp => new AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        services.AddSingleton<IJobFilterProvider>(sp => new JobFilterProviderCollection(
            new JobFilterAttributeFilterProvider(),
            new JobFilterCollection
            {
                new CaptureCultureAttribute(),
                new StatisticsHistoryAttribute(),
                new ContinuationsSupportAttribute(),
            }));
        services.AddHangfire(config => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings());

        if (builder.Configuration.Role().RunsWorkers())
        {
            services.AddHangfireServer((sp, server) =>
            {
                var o = sp.GetRequiredService<IOptions<JobsOptions>>().Value;
                server.WorkerCount = o.WorkerCount;
                server.Queues = o.EffectiveQueues;
                // A job that broke is retried by Hangfire after a few seconds (a Scheduled state): look every second.
                server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
                server.ShutdownTimeout = TimeSpan.FromSeconds(25);
            });
        }
        builder.Services.AddHealthChecks().AddCheck<HangfireStorageHealthCheck>("hangfire", tags: ["ready"]);
        return builder;
    }

    /// <summary>Hangfire's storage on its own schema in the same database.</summary>
    public static PostgreSqlStorage CreateStorage(string connectionString, JobsOptions o) => new(
        new NpgsqlConnectionFactory(connectionString, StorageOptions(o)), StorageOptions(o));

    private static PostgreSqlStorageOptions StorageOptions(JobsOptions o) => new()
    {
        SchemaName = Database.HangfireSchema,
        // The schema is installed by the migration step (Data/Database.cs), not as a side effect of building the
        // storage: a process must be able to start (and answer 503) while PostgreSQL is down.
        PrepareSchemaIfNecessary = false,
        // Idle workers poll; the dispatcher's enqueue also wakes workers in its own process at once.
        QueuePollInterval = TimeSpan.FromMilliseconds(o.PollIntervalMilliseconds),
        // A job whose worker died becomes visible again after this long; sliding keeps long jobs invisible while alive.
        InvisibilityTimeout = TimeSpan.FromSeconds(o.RecoveryAfterSeconds),
        UseSlidingInvisibilityTimeout = true,
        // Hangfire's distributed locks (a job's state lock among them) are rows; one left by a killed process
        // blocks its jobs until this expires. The default of 10 minutes kept jobs of a SIGKILLed process
        // stuck in Enqueued/Processing in the crash test; every lock here is held for milliseconds.
        DistributedLockTimeout = TimeSpan.FromSeconds(o.RecoveryAfterSeconds),
        AllowDegradedModeWithoutStorage = false,
    };

    public static IEndpointRouteBuilder MapJobsDashboard(this IEndpointRouteBuilder app)
    {
        app.MapHangfireDashboard("/hangfire", new DashboardOptions
        {
            Authorization = [new DashboardAuthorization()],
            DisplayStorageConnectionString = false,
            DashboardTitle = "WebhookReceiver jobs",
            AppPath = null,
        }).RequireOperatorAuditingWrites()
            .WithName("JobsDashboard").WithSummary("Hangfire dashboard (HTML; operator credentials)").WithTags("Operators")
            .WithMetadata(OperatorOnlyMetadata.Instance).DocumentResponse(StatusCodes.Status200OK, "text/html");
        return app;
    }
}
