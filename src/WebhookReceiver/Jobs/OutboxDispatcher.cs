using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using WebhookReceiver.Integrations;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Jobs;

/// <summary>
/// Hands committed work (call_actions rows) to Hangfire, Jobs:ActionsPerJob actions per job
/// (Integrations/CallActionBatchJob). The event's transaction is the commit point; this runs after it, so no
/// Hangfire write sits on the webhook hot path. Claims use SKIP LOCKED, so any number of processes share the
/// work. A claim whose process died before recording its job id is handed out again after
/// Jobs:RecoveryAfterSeconds; a duplicate job is harmless (the ledger and the call lock decide).
/// </summary>
internal sealed class OutboxDispatcher(
    NpgsqlDataSource dataSource, IBackgroundJobClient jobs, OutboxSignal signal, IngestWriter ingest, IOptions<JobsOptions> options,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    private const string ClaimSql =
        "UPDATE call_actions SET dispatched_at = now() WHERE id IN (" +
        "  SELECT id FROM call_actions WHERE state = 'pending' AND dispatched_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED" +
        ") RETURNING id, action, call_id";

    // job_id IS NULL: the batch may already have run and handed a failed action to its own retry job.
    // The undispatched index is on id, so the oldest waiting row is its first entry.
    private const string OldestWaitSql =
        "SELECT extract(epoch FROM now() - created_at)::float8 FROM call_actions WHERE state = 'pending' AND dispatched_at IS NULL ORDER BY id LIMIT 1";

    private const string RecordJobsSql =
        "UPDATE call_actions a SET job_id = v.job_id FROM unnest($1::bigint[], $2::text[]) AS v(id, job_id) WHERE a.id = v.id AND a.job_id IS NULL";

    private const string ReleaseStaleClaimsSql =
        "UPDATE call_actions SET dispatched_at = NULL " +
        "WHERE state = 'pending' AND job_id IS NULL AND dispatched_at < now() - make_interval(secs => $1)";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var poll = TimeSpan.FromMilliseconds(o.PollIntervalMilliseconds);
        var nextSweep = DateTime.UtcNow;
        var storedDuringWait = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (DateTime.UtcNow >= nextSweep)
                {
                    await ReleaseStaleClaimsAsync(o.RecoveryAfterSeconds, stoppingToken);
                    nextSweep = DateTime.UtcNow.AddSeconds(Math.Max(1, o.RecoveryAfterSeconds / 4));
                }
                var yielding = await ShouldYieldAsync(o, storedDuringWait, stoppingToken);
                storedDuringWait = false;
                if (yielding)
                {
                    // Nothing handed out while the burst lasts (whatever the signal says): its requests get the CPU.
                    // The oldest waiting work's age is still read, so giving way ends after MaxYieldSeconds.
                    _oldestWaitSeconds = await OldestWaitSecondsAsync(stoppingToken);
                    await Task.Delay(poll, stoppingToken);
                    continue;
                }
                var limit = o.DispatchBatchSize;
                var dispatched = await DispatchBatchAsync(limit, stoppingToken);
                if (dispatched == limit)
                {
                    continue; // more waiting: no pause
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Whatever failed (PostgreSQL down, seen here as an AggregateException out of the parallel enqueue),
                // the work is safe in the table and claims are released later: pause and go on. Letting the
                // exception out would stop the whole host (BackgroundService's default).
                logger.LogWarning("Dispatcher round failed, retrying shortly: {Error}", (ex as AggregateException)?.InnerException?.Message ?? ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
            var storedBeforeWait = ingest.StoredEvents;
            await signal.WaitAsync(poll, stoppingToken);
            storedDuringWait = ingest.StoredEvents != storedBeforeWait;
        }
    }

    // Long enough that a burst shows as a rate (100 ms at 500 events/s is 50 events), short enough that the first
    // event after a quiet spell still reaches a worker well within a second.
    private const int RateWindowMilliseconds = 100;

    private long _lastStored;
    private long _lastSampleTicks = Environment.TickCount64;
    private double _lastRate;
    private double _oldestWaitSeconds;

    /// <summary>
    /// Gives way while this process stores more than Jobs:YieldToIngestAbove events/s, unless work has waited
    /// Jobs:MaxYieldSeconds. After this process stored events during a wait, the rate is measured over a fresh window
    /// first: at a burst's first commit, a sample reaching back into the quiet moment before it reads as no load, and
    /// the work handed out then ran on the CPU the burst's first requests needed (measured: the first ~400 ms of a
    /// burst at half speed).
    /// </summary>
    private async Task<bool> ShouldYieldAsync(JobsOptions o, bool storedDuringWait, CancellationToken ct)
    {
        if (o.YieldToIngestAbove <= 0 || _oldestWaitSeconds >= o.MaxYieldSeconds)
        {
            return false;
        }
        if (storedDuringWait)
        {
            (_lastStored, _lastSampleTicks) = (ingest.StoredEvents, Environment.TickCount64);
            await Task.Delay(RateWindowMilliseconds, ct);
        }
        return IngestRate() >= o.YieldToIngestAbove;
    }

    /// <summary>Events per second this process stored, over at least RateWindowMilliseconds (shorter samples are noise).</summary>
    private double IngestRate()
    {
        var (stored, now) = (ingest.StoredEvents, Environment.TickCount64);
        if (now - _lastSampleTicks >= RateWindowMilliseconds)
        {
            _lastRate = (stored - _lastStored) * 1000.0 / (now - _lastSampleTicks);
            (_lastStored, _lastSampleTicks) = (stored, now);
        }
        return _lastRate;
    }

    private async Task<double> OldestWaitSecondsAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(OldestWaitSql);
        return await command.ExecuteScalarAsync(ct) is double seconds ? seconds : 0;
    }

    private async Task<int> DispatchBatchAsync(int batchSize, CancellationToken ct)
    {
        var claimed = new List<(long Id, string Action, string CallId)>();
        // Read again while giving way (OldestWaitSecondsAsync); after handing work out, nothing old is left waiting.
        _oldestWaitSeconds = 0;
        await using (var claim = dataSource.CreateCommand(ClaimSql))
        {
            claim.Parameters.Add(new NpgsqlParameter<int> { TypedValue = batchSize });
            await using var reader = await claim.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                claimed.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
            }
        }
        if (claimed.Count == 0)
        {
            return 0;
        }
        // Sorted by call, so a call's actions tend to share a batch (and its lock) instead of waiting on each other.
        var batches = claimed.OrderBy(a => a.CallId, StringComparer.Ordinal).ThenBy(a => a.Id).Chunk(options.Value.ActionsPerJob).ToArray();
        // One enqueue is a few transactions (a few WAL flushes): in parallel, PostgreSQL commits them together.
        var jobIds = new string[batches.Length];
        await Task.Run(() => Parallel.For(0, batches.Length, new ParallelOptions { MaxDegreeOfParallelism = options.Value.DispatchParallelism },
            i =>
            {
                var ids = batches[i].Select(a => a.Id).ToArray();
                var summary = CallActionBatchJob.Summary(batches[i]);
                jobIds[i] = jobs.Enqueue<CallActionBatchJob>(j => j.RunAsync(ids, summary, null, CancellationToken.None));
            }),
            CancellationToken.None);
        await using var record = dataSource.CreateCommand(RecordJobsSql);
        record.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = batches.SelectMany(b => b.Select(a => a.Id)).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        record.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = batches.SelectMany((b, i) => b.Select(_ => jobIds[i])).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        await record.ExecuteNonQueryAsync(CancellationToken.None);
        logger.LogDebug("Dispatched {Count} actions to Hangfire", claimed.Count);
        return claimed.Count;
    }

    private async Task ReleaseStaleClaimsAsync(int afterSeconds, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(ReleaseStaleClaimsSql);
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = afterSeconds });
        var released = await command.ExecuteNonQueryAsync(ct);
        if (released > 0)
        {
            logger.LogWarning("Released {Count} actions claimed by a dispatcher that died before handing them to Hangfire", released);
        }
    }
}
