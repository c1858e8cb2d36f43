using Npgsql;
using WebhookReceiver.Data;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Delivery;

internal sealed record ReplayedAction(long ActionId, string Action, long ReplayOf);

/// <summary>
/// Runs a stored event's workflows again on purpose: a new action row per action the event originally caused,
/// marked as a replay of it (replay_of, requested_by). Replays sit outside the once-per-event rules and carry
/// their own Idempotency-Key, so the CRM or ticket system applies them again rather than dropping them.
/// </summary>
internal sealed class EventReplay(NpgsqlDataSource dataSource, WorkSignal work, ILogger<EventReplay> audit)
{
    /// <returns>null when the event does not exist; an empty list when it caused no work.</returns>
    public async Task<List<ReplayedAction>?> ReplayAsync(long eventId, string? onlyAction, string requestedBy, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "WITH evt AS (SELECT id FROM webhook_events WHERE id = $1), " +
            "replayed AS (INSERT INTO call_actions " +
            "(call_id, event_id, action, state, attempts, replay_of, requested_by, created_at, updated_at) " +
            "  SELECT a.call_id, a.event_id, a.action, '" + ActionState.Pending + "', 0, a.id, $3, now(), now() FROM call_actions a " +
            "  WHERE a.event_id = $1 AND a.replay_of IS NULL AND ($2::text IS NULL OR a.action = $2) ORDER BY a.id " +
            "  RETURNING id, action, replay_of, call_id) " +
            "SELECT (SELECT count(*) FROM evt), r.id, r.action, r.replay_of, r.call_id FROM (SELECT 1) one LEFT JOIN replayed r ON true");
        command.Parameters.AddWithValue(eventId);
        command.Parameters.Add(
            new NpgsqlParameter { Value = (object?)onlyAction ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.AddWithValue(requestedBy);
        var replayed = new List<ReplayedAction>();
        var exists = false;
        string? callId = null;
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                exists = reader.GetInt64(0) > 0;
                if (!reader.IsDBNull(1))
                {
                    replayed.Add(new ReplayedAction(reader.GetInt64(1), reader.GetString(2), reader.GetInt64(3)));
                    callId = reader.GetString(4);
                }
            }
        }
        if (!exists)
        {
            return null;
        }
        if (replayed.Count > 0)
        {
            work.Notify();
            audit.LogInformation("Operator {Operator} replayed event {EventId} of call {CallId}: {Actions}", requestedBy, eventId, callId,
                string.Join(", ", replayed.Select(r => $"{r.Action} as action {r.ActionId}")));
        }
        return replayed;
    }
}
