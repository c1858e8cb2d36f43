using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;
using WebhookReceiver.Data;
using WebhookReceiver.Jobs;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Delivery;

/// <summary>
/// Hands due work to Hangfire: per destination that may send now (not paused, not held, breaker closed — or one
/// probe when its open time is up), it claims due actions under a fresh lease, up to Jobs:ActionsPerJob per
/// <see cref="DeliveryJob"/>. A destination without a BaseUrl gets its actions recorded skipped instead. Claims use
/// SKIP LOCKED and leases, so any number of processes share the work; an expired lease is claimable like no lease,
/// which is the whole recovery story (<see cref="ActionState.Unowned"/>). No Hangfire write sits on the webhook hot path.
/// </summary>
internal sealed class DeliveryDispatcher(
    ActionLedger ledger, DestinationGate gate, DestinationCatalog catalog, NpgsqlDataSource dataSource, IBackgroundJobClient jobs,
    WorkSignal signal, DeliveryMetrics metrics, IOptions<JobsOptions> options, Observability.TraceContext traces,
    ILogger<DeliveryDispatcher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var poll = TimeSpan.FromMilliseconds(o.PollIntervalMilliseconds);
        var ready = false;
        var storedDuringWait = false;
        var partial = false;
        var givingWay = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!ready)
                {
                    foreach (var d in catalog.All)
                    {
                        await gate.EnsureAsync(d, stoppingToken);
                    }
                    ready = true;
                }
                var lag = await LagAsync(o, storedDuringWait, stoppingToken);
                storedDuringWait = false;
                givingWay = lag > TimeSpan.Zero;
                metrics.RecordDispatchRound(givingWay);
                var (claimed, full) = await DispatchRoundAsync(o, lag, stoppingToken);
                partial = claimed > 0 && !full;
                if (full)
                {
                    continue; // more waiting: no pause
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // PostgreSQL down, Hangfire storage unreachable: the work is safe in the table and its leases run out.
                // Letting the exception out would stop the whole host (BackgroundService's default).
                logger.LogWarning("Dispatcher round failed, retrying shortly: {Error}", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
            var storedBeforeWait = signal.StoredEvents;
            if (givingWay)
            {
                // New work cannot be due before the lag has passed, so a new-work signal (one per commit, hundreds a
                // second in a burst) has nothing to hand out: reacting to each spun a round of queries per commit on
                // the CPU the burst needs. Poll instead; the signal left waiting costs one round once the burst ends.
                await Task.Delay(poll, stoppingToken);
            }
            else
            {
                await signal.WaitAsync(poll, stoppingToken);
            }
            storedDuringWait = signal.StoredEvents != storedBeforeWait;
            if (partial && o.BatchWindowMilliseconds > 0)
            {
                await Task.Delay(o.BatchWindowMilliseconds, stoppingToken);
            }
        }
    }

    /// <summary>
    /// One pass over the destinations, handing out work due at least <paramref name="lag"/> ago. Returns actions
    /// claimed, and whether a claim came back full (more is due).
    /// </summary>
    private async Task<(int Claimed, bool Full)> DispatchRoundAsync(JobsOptions o, TimeSpan lag, CancellationToken ct)
    {
        var total = 0;
        var full = false;
        // Work claimed is leased work: claim no faster than the workers fetch it, so under load batches fill up
        // instead of queueing many small ones.
        if (await QueuedJobsAsync(o, ct) >= o.WorkerCount)
        {
            return (0, false);
        }
        foreach (var d in catalog.All)
        {
            if (!d.Options.IsConfigured)
            {
                var skipped = await ledger.SkipAsync(d.Action, o.DispatchBatchSize, ct);
                if (skipped > 0)
                {
                    logger.LogInformation("{Count} {Action} actions skipped: {Destination} has no BaseUrl", skipped, d.Action, d.Name);
                }
                continue;
            }
            var mode = await gate.ClaimModeAsync(d, o.Lease, ct);
            if (mode == ClaimMode.Nothing)
            {
                continue;
            }
            var limit = mode == ClaimMode.Probe ? 1 : o.ActionsPerJob;
            for (var claimedHere = 0; claimedHere < o.DispatchBatchSize;)
            {
                var lease = Guid.NewGuid();
                var startedAt = traces.Enabled ? DateTimeOffset.UtcNow : default;
                var claimed = await ledger.ClaimAsync(d.Action, limit, lease, o.Lease, lag, ct);
                if (claimed.Count == 0)
                {
                    break;
                }
                var reowned = claimed.Count(c => c.Reowned);
                traces.RecordClaim(d.Action, claimed.Count, reowned, lease, startedAt);
                if (reowned > 0)
                {
                    logger.LogWarning("Re-owned {Count} {Action} actions whose previous owner stopped before finishing", reowned, d.Action);
                }
                var ids = claimed.Select(c => c.Id).ToArray();
                var summary = DeliveryJob.Summary(d, claimed.Select(c => c.CallId).ToList(), mode == ClaimMode.Probe);
                jobs.Enqueue<DeliveryJob>(j => j.RunAsync(d.Name, lease, ids, summary, null, CancellationToken.None));
                claimedHere += claimed.Count;
                total += claimed.Count;
                if (claimed.Count < limit || mode == ClaimMode.Probe)
                {
                    break;
                }
                full = claimedHere >= o.DispatchBatchSize;
            }
        }
        return (total, full);
    }

    private async Task<long> QueuedJobsAsync(JobsOptions o, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            $"SELECT count(*) FROM {Database.HangfireSchema}.jobqueue WHERE fetchedat IS NULL AND queue = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = o.EffectiveQueues });
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    // Long enough that a burst shows as a rate (100 ms at 500 events/s is 50 events), short enough that the first
    // event after a quiet spell still reaches a worker well within a second.
    private const int RateWindowMilliseconds = 100;

    // A burst is not over at its first quiet sample: a GC pause or a checkpoint stalls commits for 100 ms now and
    // then, and reading that as "no load" handed a whole round of work (seen: ~1 000 actions) to jobs in mid-burst.
    // So giving way lasts until the rate has stayed below the threshold this long.
    private const int YieldHoldMilliseconds = 1000;

    private long _lastStored;
    private long _lastSampleTicks = Environment.TickCount64;
    private double _lastRate;
    private long _givingWayUntilTicks;

    /// <summary>
    /// How far behind the work runs: not at all, unless this process stores more than Jobs:YieldToIngestAbove events/s;
    /// then only work due Jobs:MaxYieldSeconds ago is handed out. A burst's requests keep the CPU (its work is safe
    /// in the table and drains right after), and under sustained load the work runs MaxYieldSeconds behind, at the
    /// ingest's pace, its backlog flat instead of growing and draining in waves. After this process stored events
    /// during a wait, the rate is measured over a fresh window first: a sample reaching back into the quiet moment
    /// before a burst reads as no load. Once giving way, it keeps giving way until the rate has been low for
    /// YieldHoldMilliseconds.
    /// </summary>
    private async Task<TimeSpan> LagAsync(JobsOptions o, bool storedDuringWait, CancellationToken ct)
    {
        if (o.YieldToIngestAbove <= 0)
        {
            return TimeSpan.Zero;
        }
        if (storedDuringWait)
        {
            (_lastStored, _lastSampleTicks) = (signal.StoredEvents, Environment.TickCount64);
            await Task.Delay(RateWindowMilliseconds, ct);
        }
        if (IngestRate() >= o.YieldToIngestAbove)
        {
            _givingWayUntilTicks = Environment.TickCount64 + YieldHoldMilliseconds;
        }
        return Environment.TickCount64 < _givingWayUntilTicks ? TimeSpan.FromSeconds(o.MaxYieldSeconds) : TimeSpan.Zero;
    }

    /// <summary>Events per second this process stored, over at least RateWindowMilliseconds (shorter samples are noise).</summary>
    private double IngestRate()
    {
        var (stored, now) = (signal.StoredEvents, Environment.TickCount64);
        if (now - _lastSampleTicks >= RateWindowMilliseconds)
        {
            _lastRate = (stored - _lastStored) * 1000.0 / (now - _lastSampleTicks);
            (_lastStored, _lastSampleTicks) = (stored, now);
        }
        return _lastRate;
    }
}
