using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using WebhookReceiver.Integrations;

namespace WebhookReceiver.Jobs;

/// <summary>
/// Hands committed work (call_actions rows) to Hangfire. The event's transaction is the commit point; this
/// runs after it, so no Hangfire write sits on the webhook hot path. Claims use SKIP LOCKED, so any number of
/// processes share the work. A claim whose process died before recording its job id is handed out again
/// after Jobs:RecoveryAfterSeconds; a duplicate job is harmless (the ledger and the call lock decide).
/// </summary>
internal sealed class OutboxDispatcher(
    NpgsqlDataSource dataSource, IBackgroundJobClient jobs, OutboxSignal signal, IOptions<JobsOptions> options,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    private const string ClaimSql =
        "UPDATE call_actions SET dispatched_at = now() WHERE id IN (" +
        "  SELECT id FROM call_actions WHERE state = 'pending' AND dispatched_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED" +
        ") RETURNING id, action, call_id";

    private const string RecordJobsSql =
        "UPDATE call_actions a SET job_id = v.job_id FROM unnest($1::bigint[], $2::text[]) AS v(id, job_id) WHERE a.id = v.id";

    private const string ReleaseStaleClaimsSql =
        "UPDATE call_actions SET dispatched_at = NULL " +
        "WHERE state = 'pending' AND job_id IS NULL AND dispatched_at < now() - make_interval(secs => $1)";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var poll = TimeSpan.FromMilliseconds(o.PollIntervalMilliseconds);
        var nextSweep = DateTime.UtcNow;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (DateTime.UtcNow >= nextSweep)
                {
                    await ReleaseStaleClaimsAsync(o.RecoveryAfterSeconds, stoppingToken);
                    nextSweep = DateTime.UtcNow.AddSeconds(Math.Max(1, o.RecoveryAfterSeconds / 4));
                }
                if (await DispatchBatchAsync(o.DispatchBatchSize, stoppingToken) == o.DispatchBatchSize)
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
            await signal.WaitAsync(poll, stoppingToken);
        }
    }

    private async Task<int> DispatchBatchAsync(int batchSize, CancellationToken ct)
    {
        var claimed = new List<(long Id, string Action, string CallId)>();
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
        // One enqueue is a few transactions (a few WAL flushes): one at a time capped the pipeline at ~100 jobs/s
        // whatever the worker count. In parallel, PostgreSQL commits them together.
        var jobIds = new string[claimed.Count];
        await Task.Run(() => Parallel.For(0, claimed.Count, new ParallelOptions { MaxDegreeOfParallelism = options.Value.DispatchParallelism },
            i => jobIds[i] = jobs.Enqueue<CallActionJob>(j => j.RunAsync(claimed[i].Id, claimed[i].Action, claimed[i].CallId, CancellationToken.None))),
            CancellationToken.None);
        await using var record = dataSource.CreateCommand(RecordJobsSql);
        record.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = claimed.Select(a => a.Id).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        record.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = jobIds, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
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
