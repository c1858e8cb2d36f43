using System.ComponentModel.DataAnnotations;

namespace WebhookReceiver.Jobs;

internal sealed class JobsOptions : IValidatableObject
{
    public const string SectionName = "Jobs";

    /// <summary>
    /// The production default spreads 8 retries over about 27 hours, so a CRM that is down overnight still
    /// gets every update in the morning.
    /// </summary>
    public static readonly int[] DefaultRetryDelaysSeconds = [60, 300, 900, 3600, 7200, 14400, 28800, 43200];

    /// <summary>
    /// Delay before each retry; the list's length is the number of retries. Empty in configuration means the
    /// default: the binder appends configured items to a non-empty default, so the default is applied here.
    /// </summary>
    public int[] RetryDelaysSeconds { get; set; } = [];

    public int[] EffectiveRetryDelaysSeconds => RetryDelaysSeconds.Length > 0 ? RetryDelaysSeconds : DefaultRetryDelaysSeconds;

    /// <summary>
    /// The lease of a batch on its actions: work whose owner stopped (a crash, a deleted job, a stopped process) is
    /// claimed again within this long. Running batches renew their lease well before it ends.
    /// </summary>
    [Range(5, 3600)]
    public int RecoveryAfterSeconds { get; set; } = 60;

    public TimeSpan Lease => TimeSpan.FromSeconds(RecoveryAfterSeconds);

    /// <summary>
    /// Hangfire worker threads per process: batches that run at once. What reaches a destination at once is its own
    /// MaxConcurrency, whatever this is; more workers mostly add queue polling (20 cost the webhooks ~15 % during a burst on 2 cores).
    /// </summary>
    [Range(1, 200)]
    public int WorkerCount { get; set; } = 8;

    /// <summary>Hangfire queues this process's workers take jobs from; empty means ["default"].</summary>
    public string[] Queues { get; set; } = [];

    public string[] EffectiveQueues => Queues.Length > 0 ? Queues : ["default"];

    /// <summary>How often an idle worker or the dispatcher looks for work written by another process.</summary>
    [Range(10, 15000)]
    public int PollIntervalMilliseconds { get; set; } = 200;

    [Range(1, 5000)]
    public int DispatchBatchSize { get; set; } = 500;

    /// <summary>
    /// Due actions (first attempts and retries alike) one Hangfire job attempts. Hangfire's bookkeeping per job is the
    /// largest cost of the drain: a drain-only run here spent 1.3 ms of CPU per action with 64 per job and 0.7 ms with
    /// 256 (1 034 vs 1 840 actions/s). Under light load a batch holds just what is due.
    /// </summary>
    [Range(1, 2000)]
    public int ActionsPerJob { get; set; } = 256;

    /// <summary>
    /// Request lanes one batch takes from its destination's MaxConcurrency (it sends that many at once, one call's
    /// actions never together). Several batches share a destination's lanes.
    /// </summary>
    [Range(1, 256)]
    public int SendParallelism { get; set; } = 8;

    /// <summary>
    /// After a round that found less than a full batch, the dispatcher lets work gather this long before the next:
    /// under load, batches fill up (fewer Hangfire jobs per action); an idle service still starts work at once.
    /// </summary>
    [Range(0, 1000)]
    public int BatchWindowMilliseconds { get; set; } = 25;

    /// <summary>
    /// While this process stores more events per second than this, the dispatcher hands out only work that has waited
    /// MaxYieldSeconds: the 2xx of a burst comes first, its work is safe in the outbox and drains right after. 0 = never give way.
    /// </summary>
    [Range(0, 1_000_000)]
    public int YieldToIngestAbove { get; set; } = 500;

    /// <summary>How far behind the work runs while ingest is busy: sustained load never starves the work, it runs this much late.</summary>
    [Range(1, 3600)]
    public int MaxYieldSeconds { get; set; } = 30;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RetryDelaysSeconds.Any(d => d < 0))
        {
            yield return new ValidationResult("Jobs:RetryDelaysSeconds must not hold negative delays.");
        }
    }
}
