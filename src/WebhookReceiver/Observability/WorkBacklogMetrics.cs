using System.Diagnostics.Metrics;
using Npgsql;
using WebhookReceiver.Jobs;

namespace WebhookReceiver.Observability;

/// <summary>
/// Gauges of work waiting in PostgreSQL: the outbox (call_actions not yet succeeded or failed), Hangfire's queue
/// and the age of the oldest pending action. A scrape reads the last snapshot and, when it is older than
/// <see cref="MaxAge"/>, starts one refresh in the background: however often Prometheus scrapes (and however
/// many scrapers), the database sees at most one small query per interval, and a scrape never waits on it.
/// </summary>
internal sealed class WorkBacklogMetrics
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);

    private const string Sql =
        "SELECT (SELECT count(*) FROM call_actions WHERE state = 'pending'), " +
        "(SELECT count(*) FROM call_actions WHERE state = 'pending' AND dispatched_at IS NULL), " +
        "(SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 FROM call_actions WHERE state = 'pending'), " +
        "(SELECT count(*) FROM " + JobsSetup.SchemaName + ".jobqueue WHERE fetchedat IS NULL)";

    private sealed record Snapshot(long Pending, long Undispatched, double OldestPendingSeconds, long QueueDepth, long TakenAt);

    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _clock;
    private readonly ILogger<WorkBacklogMetrics> _logger;
    private Snapshot? _last;
    private int _refreshing;
    private long _lastAttempt; // 0: never

    public WorkBacklogMetrics(NpgsqlDataSource dataSource, TimeProvider clock, IMeterFactory meterFactory, ILogger<WorkBacklogMetrics> logger)
    {
        (_dataSource, _clock, _logger) = (dataSource, clock, logger);
        var meter = meterFactory.Create(ActionMetrics.MeterName);
        meter.CreateObservableGauge("webhookreceiver.outbox.pending", () => Read(s => s.Pending),
            description: "Background actions not yet done (waiting, running or scheduled for a retry)");
        meter.CreateObservableGauge("webhookreceiver.outbox.undispatched", () => Read(s => s.Undispatched),
            description: "Background actions committed but not yet handed to Hangfire");
        meter.CreateObservableGauge("webhookreceiver.outbox.oldest_pending_age", () => Read(s => s.OldestPendingSeconds), unit: "s",
            description: "Age of the oldest background action not yet done");
        meter.CreateObservableGauge("webhookreceiver.jobs.queue_depth", () => Read(s => s.QueueDepth),
            description: "Hangfire jobs enqueued and not yet fetched by a worker");
    }

    private IEnumerable<Measurement<T>> Read<T>(Func<Snapshot, T> value) where T : struct
    {
        var snapshot = Volatile.Read(ref _last);
        var now = _clock.GetTimestamp();
        if ((snapshot is null || _clock.GetElapsedTime(snapshot.TakenAt, now) > MaxAge)
            && (Interlocked.Read(ref _lastAttempt) is var last && (last == 0 || _clock.GetElapsedTime(last, now) > MaxAge))
            && Interlocked.CompareExchange(ref _refreshing, 1, 0) == 0)
        {
            Interlocked.Exchange(ref _lastAttempt, now);
            _ = Task.Run(RefreshAsync);
        }
        // Nothing rather than a stale zero until the first read succeeded.
        return snapshot is null ? [] : [new Measurement<T>(value(snapshot))];
    }

    private async Task RefreshAsync()
    {
        try
        {
            await using var command = _dataSource.CreateCommand(Sql);
            command.CommandTimeout = 5;
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            Volatile.Write(ref _last, new Snapshot(reader.GetInt64(0), reader.GetInt64(1), reader.GetDouble(2), reader.GetInt64(3), _clock.GetTimestamp()));
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            // The database's own health is /health/ready's job; the gauges keep their last values.
            _logger.LogDebug("Backlog gauges not refreshed: {Error}", ex.Message);
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
    }
}
