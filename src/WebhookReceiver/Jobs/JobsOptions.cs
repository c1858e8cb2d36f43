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

    /// <summary>Work interrupted by a crash runs again within this long of a worker being up.</summary>
    [Range(5, 3600)]
    public int RecoveryAfterSeconds { get; set; } = 60;

    /// <summary>
    /// Hangfire worker threads per process. Each runs a batch with SendParallelism requests in flight, so 8 already
    /// send 128 at once; more workers mostly add queue polling (20 cost the webhooks ~15 % during a burst on 2 cores).
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
    /// Actions whose first attempt shares one Hangfire job (CallActionBatchJob): Hangfire's own bookkeeping per
    /// job costs more than a 5 ms CRM call, so batching is what lets the drain outrun one-job-per-action.
    /// </summary>
    [Range(1, 500)]
    public int ActionsPerJob { get; set; } = 32;

    /// <summary>
    /// Requests one batch job has in flight at once (different calls; one call's actions go in order). The CRM
    /// and ticket system see at most WorkerCount × SendParallelism concurrent requests from a process.
    /// </summary>
    [Range(1, 256)]
    public int SendParallelism { get; set; } = 16;

    /// <summary>
    /// While this process stores more events per second than this, the dispatcher hands out nothing: the 2xx of a
    /// burst comes first, its work is safe in the outbox and drains right after. 0 = never give way.
    /// </summary>
    [Range(0, 1_000_000)]
    public int YieldToIngestAbove { get; set; } = 500;

    /// <summary>Giving way to ingest stops once the oldest waiting work is this old: sustained load must not starve the work.</summary>
    [Range(1, 3600)]
    public int MaxYieldSeconds { get; set; } = 30;

    /// <summary>Hangfire enqueues the dispatcher runs at once (each is a few small transactions).</summary>
    [Range(1, 128)]
    public int DispatchParallelism { get; set; } = 16;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RetryDelaysSeconds.Any(d => d < 0))
        {
            yield return new ValidationResult("Jobs:RetryDelaysSeconds must not hold negative delays.");
        }
    }
}

internal sealed class WorkflowOptions
{
    public const string SectionName = "Workflows";

    /// <summary>Statuses (besides failed, busy, no-answer) after which a support ticket is opened.</summary>
    public string[] TicketStatuses { get; set; } = [];

    private static readonly string[] DestinationFailures = ["failed", "busy", "no-answer"];

    public string[] CanonicalTicketStatuses() =>
        DestinationFailures.Concat(TicketStatuses.Where(s => !string.IsNullOrWhiteSpace(s)).Select(Calls.CallStatus.Canonical))
            .Distinct().ToArray();
}

/// <summary>The statuses that open a ticket, in canonical form, computed once for the hot path.</summary>
internal sealed record TicketStatuses(string[] Canonical);
