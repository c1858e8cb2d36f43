using Npgsql;
using WebhookReceiver.Data;

namespace WebhookReceiver.Retention;

internal sealed record PurgeCounts(long Events, long Actions, long Quarantined, long Receipts = 0);

/// <summary>
/// Deletes old webhook_events, quarantined_webhooks and webhook_receipts in bounded batches. An event stays while work it
/// started, or the ticket of its call, is pending, or failed within Retention:KeepFailedDays (failed work must remain
/// inspectable and retryable with its event — for a while, not forever). The crm.sync rows of a purged event go with
/// it; a ticket.create row stays (with no event): its unique index is what keeps a call to one ticket ever.
/// </summary>
internal sealed class RetentionPurge(NpgsqlDataSource dataSource, ILogger<RetentionPurge> logger)
{
    /// <summary>
    /// Work that keeps its event: pending (still to run), or failed less than Retention:KeepFailedDays ago (to be
    /// inspected and retried). Succeeded and skipped work never pins; failed work stops pinning after KeepFailedDays.
    /// </summary>
    private const string Pins = $"(a.state = '{ActionState.Pending}' OR (a.state = '{ActionState.Failed}' AND e.received_at >= $3))";

    private const string EventsBatchSql = $"""
        WITH doomed AS (
            SELECT e.id FROM webhook_events e
            WHERE e.received_at < $1
              AND NOT EXISTS (SELECT 1 FROM call_actions a WHERE a.event_id = e.id AND {Pins})
              AND NOT EXISTS (SELECT 1 FROM call_actions a
                              WHERE a.call_id = e.call_id AND a.action = 'ticket.create' AND {Pins})
            ORDER BY e.received_at
            LIMIT $2
            FOR UPDATE SKIP LOCKED
        ), kept_tickets AS (
            UPDATE call_actions SET event_id = NULL, updated_at = now()
            WHERE event_id IN (SELECT id FROM doomed) AND action = 'ticket.create'
            RETURNING 1
        ), actions AS (
            DELETE FROM call_actions WHERE event_id IN (SELECT id FROM doomed) AND action <> 'ticket.create' RETURNING 1
        ), events AS (
            DELETE FROM webhook_events WHERE id IN (SELECT id FROM doomed) RETURNING 1
        )
        SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM actions), (SELECT count(*) FROM kept_tickets)
        """;

    // Tables with nothing hanging on them, purged by arrival time alone. Receipts count refused requests, so a flood
    // of forged ones grows that table: it must age out like the rest.
    private static string ByAgeBatchSql(string table) => $"""
        WITH doomed AS (
            SELECT id FROM {table} WHERE received_at < $1 ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED
        ), gone AS (
            DELETE FROM {table} WHERE id IN (SELECT id FROM doomed) RETURNING 1
        )
        SELECT count(*) FROM gone
        """;

    public async Task<PurgeCounts> PurgeAsync(int days, int keepFailedDays, int batchSize, CancellationToken cancellationToken)
    {
        if (days <= 0)
        {
            return new PurgeCounts(0, 0, 0, 0);
        }
        var cutoff = DateTime.UtcNow.AddDays(-days);
        var failedCutoff = DateTime.UtcNow.AddDays(-keepFailedDays);
        long events = 0, actions = 0;
        while (true)
        {
            await using var command = dataSource.CreateCommand(EventsBatchSql);
            command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = cutoff });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = batchSize });
            command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = failedCutoff });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var (deleted, deletedActions) = (reader.GetInt64(0), reader.GetInt64(1));
            (events, actions) = (events + deleted, actions + deletedActions);
            if (deleted < batchSize)
            {
                break;
            }
        }
        var quarantined = await PurgeByAgeAsync("quarantined_webhooks", cutoff, batchSize, cancellationToken);
        var receipts = await PurgeByAgeAsync("webhook_receipts", cutoff, batchSize, cancellationToken);
        logger.LogInformation(
            "Retention: purged {Events} events ({Actions} finished actions), {Quarantined} quarantined bodies and {Receipts} receipts " +
            "received before {Cutoff:u} ({Days} days)",
            events, actions, quarantined, receipts, cutoff, days);
        return new PurgeCounts(events, actions, quarantined, receipts);
    }

    private async Task<long> PurgeByAgeAsync(string table, DateTime cutoff, int batchSize, CancellationToken cancellationToken)
    {
        var total = 0L;
        while (true)
        {
            await using var command = dataSource.CreateCommand(ByAgeBatchSql(table));
            command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = cutoff });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = batchSize });
            var deleted = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
            total += deleted;
            if (deleted < batchSize)
            {
                return total;
            }
        }
    }
}
