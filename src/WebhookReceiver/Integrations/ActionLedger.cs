using Npgsql;

namespace WebhookReceiver.Integrations;

/// <summary>
/// The per-action ledger in call_actions. Every write is a guarded UPDATE, never check-then-write:
/// a succeeded action can never be attempted again, whichever job or process asks.
/// </summary>
internal static class ActionLedger
{
    /// <summary>Counts an attempt, unless the action already succeeded (then null: send nothing).</summary>
    public static async Task<(long? EventId, int Attempt)?> BeginAttemptAsync(NpgsqlConnection connection, long actionId, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "UPDATE call_actions SET attempts = attempts + 1, state = 'pending', last_attempt_at = now(), " +
            "first_attempt_at = COALESCE(first_attempt_at, now()), updated_at = now() " +
            "WHERE id = $1 AND state <> 'succeeded' RETURNING event_id, attempts", connection);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = actionId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }
        return (reader.IsDBNull(0) ? null : reader.GetInt64(0), reader.GetInt32(1));
    }

    public static Task RecordAsync(NpgsqlConnection connection, long actionId, ActionOutcome outcome, CancellationToken ct) =>
        ExecuteAsync(connection,
            "UPDATE call_actions SET state = $2, last_error = $3, last_http_status = $4, last_error_kind = $5, updated_at = now(), " +
            "completed_at = CASE WHEN $2 = 'succeeded' THEN now() ELSE completed_at END WHERE id = $1",
            ct, actionId, outcome.Succeeded ? "succeeded" : outcome.Permanent ? "failed" : "pending",
            (object?)outcome.Error ?? DBNull.Value, (object?)outcome.HttpStatus ?? DBNull.Value, (object?)outcome.ErrorKind ?? DBNull.Value);

    /// <summary>Retries are exhausted: the action shows as failed until someone retries it from the dashboard.</summary>
    public static void MarkExhausted(NpgsqlDataSource dataSource, long actionId)
    {
        using var command = dataSource.CreateCommand(
            "UPDATE call_actions SET state = 'failed', updated_at = now() WHERE id = $1 AND state = 'pending'");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = actionId });
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Serialises all work of one call across threads and processes: two events of a call must not race
    /// into two CRM records. A session lock on the job's own connection, released in <c>finally</c>
    /// (and by PostgreSQL if the process dies).
    /// </summary>
    public static Task LockCallAsync(NpgsqlConnection connection, string callId, CancellationToken ct) =>
        ExecuteAsync(connection, "SELECT pg_advisory_lock(hashtextextended('call:' || $1, 0))", ct, callId);

    public static Task UnlockCallAsync(NpgsqlConnection connection, string callId) =>
        ExecuteAsync(connection, "SELECT pg_advisory_unlock(hashtextextended('call:' || $1, 0))", CancellationToken.None, callId);

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct, params object[] args)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var arg in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = arg });
        }
        await command.ExecuteNonQueryAsync(ct);
    }
}
