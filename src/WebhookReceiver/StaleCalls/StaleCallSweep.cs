using System.Diagnostics.Metrics;
using Npgsql;
using WebhookReceiver.Delivery;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.StaleCalls;

internal sealed record SweepResult(long Marked, long Tickets, IReadOnlyList<string> Examples);

/// <summary>
/// Marks calls that never got a final status: not final, not yet marked, and nothing arrived for them (no event, no
/// POST /calls) for Workflows:StaleCallAfterMinutes. "Arrived" is calls.updated_at, our own clock at the last write
/// by an event — not last_event_at, which is MiniVoice's created_at: a MiniVoice clock hours off, or an old event
/// redelivered late, must neither mark a live call nor hide a dead one. Batches of SKIP LOCKED rows, each its own
/// statement, so several workers share a sweep and an event arriving meanwhile is never overwritten (its upsert
/// clears the mark; the row lock orders the two).
/// </summary>
internal sealed class StaleCallSweep(
    NpgsqlDataSource dataSource, AlertSender alerts, StaleCallMetrics metrics, WorkSignal signal, ILogger<StaleCallSweep> logger)
{
    public const string AlertSubject = "calls";

    // The ticket row is the ingest statement's own shape (no event: the sweep is its cause); the one-ticket-per-call
    // index makes it the call's only ticket, whatever final status arrives later.
    private const string BatchSql = """
        WITH due AS (
            SELECT id FROM calls
            WHERE NOT is_final AND stale_at IS NULL AND updated_at < now() - make_interval(secs => $1)
            ORDER BY updated_at
            LIMIT $2
            FOR UPDATE SKIP LOCKED
        ), marked AS (
            UPDATE calls c SET stale_at = now() FROM due WHERE c.id = due.id RETURNING c.id
        ), tickets AS (
            INSERT INTO call_actions (call_id, event_id, action, state, attempts, created_at, updated_at)
            SELECT id, NULL, 'ticket.create', 'pending', 0, now(), now() FROM marked WHERE $3
            ON CONFLICT DO NOTHING
            RETURNING call_id
        )
        SELECT (SELECT count(*) FROM marked), (SELECT count(*) FROM tickets),
               (SELECT array_agg(id) FROM (SELECT id FROM marked ORDER BY id LIMIT 3) e)
        """;

    public async Task<SweepResult> SweepAsync(StaleCallOptions o, CancellationToken cancellationToken)
    {
        if (!o.Enabled)
        {
            return new SweepResult(0, 0, []);
        }
        long marked = 0, tickets = 0;
        var examples = new List<string>();
        while (!cancellationToken.IsCancellationRequested)
        {
            var (m, t, e) = await BatchAsync(o, cancellationToken);
            (marked, tickets) = (marked + m, tickets + t);
            examples.AddRange(e.Take(3 - examples.Count));
            if (m < o.StaleCallBatchSize)
            {
                break;
            }
        }
        if (marked > 0)
        {
            metrics.Marked(marked);
            if (tickets > 0)
            {
                signal.Notify();
            }
            logger.LogWarning("Stale calls: {Marked} marked ({Tickets} tickets), no final status {Minutes} minutes after their last event",
                marked, tickets, o.StaleCallAfterMinutes);
            await alerts.RaiseAsync(AlertSubject, AlertKind.StaleCalls, AlertText(marked, o.StaleCallAfterMinutes, examples));
        }
        return new SweepResult(marked, tickets, examples);
    }

    private async Task<(long Marked, long Tickets, string[] Examples)> BatchAsync(StaleCallOptions o, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(BatchSql);
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = o.StaleCallAfterMinutes * 60 });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = o.StaleCallBatchSize });
        command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = o.TicketOnStaleCall });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt64(1), reader.IsDBNull(2) ? [] : reader.GetFieldValue<string[]>(2));
    }

    internal static string AlertText(long marked, double minutes, IReadOnlyList<string> examples) =>
        $"{marked} call(s) marked stale: no final status {minutes:0.##} minutes after their last event" +
        (examples.Count > 0 ? $" (e.g. {string.Join(", ", examples)})" : "") + "; see GET /calls?stale=true";
}

/// <summary>
/// webhookreceiver.calls.marked_stale (calls this process's sweeps marked) and webhookreceiver.calls.stale (calls marked
/// stale now, across all processes), on the jobs meter. The gauge reads a count at most every <see cref="MaxAge"/>, in
/// the background, so scrapes never wait on the database (the same rule as the delivery gauges).
/// </summary>
internal sealed class StaleCallMetrics
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);

    private readonly Counter<long> _marked;
    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _clock;
    private readonly ILogger<StaleCallMetrics> _logger;
    private long _stale = -1; // -1 until the first count
    private long _readAt;
    private int _refreshing;

    public StaleCallMetrics(IMeterFactory meterFactory, NpgsqlDataSource dataSource, TimeProvider clock, ILogger<StaleCallMetrics> logger)
    {
        (_dataSource, _clock, _logger) = (dataSource, clock, logger);
        var meter = meterFactory.Create(DeliveryMetrics.MeterName);
        _marked = meter.CreateCounter<long>("webhookreceiver.calls.marked_stale",
            description: "Calls marked stale: still not final Workflows:StaleCallAfterMinutes after their last event");
        meter.CreateObservableGauge("webhookreceiver.calls.stale", Stale,
            description: "Calls marked stale now (no final status arrived; cleared by their next event)");
    }

    public void Marked(long calls) => _marked.Add(calls);

    private IEnumerable<Measurement<long>> Stale()
    {
        var now = _clock.GetTimestamp();
        var readAt = Interlocked.Read(ref _readAt);
        if ((readAt == 0 || _clock.GetElapsedTime(readAt, now) > MaxAge) && Interlocked.CompareExchange(ref _refreshing, 1, 0) == 0)
        {
            Interlocked.Exchange(ref _readAt, now);
            _ = Task.Run(RefreshAsync);
        }
        // Nothing rather than a made-up zero until the first count succeeded.
        return Interlocked.Read(ref _stale) is var n and >= 0 ? [new Measurement<long>(n)] : [];
    }

    private async Task RefreshAsync()
    {
        try
        {
            // Answered from ix_calls_stale, which holds only the stale calls.
            await using var command = _dataSource.CreateCommand("SELECT count(*) FROM calls WHERE stale_at IS NOT NULL");
            Interlocked.Exchange(ref _stale, (long)(await command.ExecuteScalarAsync())!);
        }
        catch (Exception ex)
        {
            _logger.LogDebug("Stale-call gauge not refreshed: {Error}", ex.Message);
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
    }
}
