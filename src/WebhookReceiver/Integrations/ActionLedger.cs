using Npgsql;

namespace WebhookReceiver.Integrations;

/// <summary>
/// The per-action ledger in call_actions. Every write is a guarded UPDATE, never check-then-write:
/// a succeeded action can never be attempted again, whichever job or process asks.
/// </summary>
internal static class ActionLedger
{
    /// <summary>
    /// Counts an attempt and records this job as the one running the action (then its dashboard link is right),
    /// unless there is nothing for it to do (then null: send nothing): the action succeeded, or it failed under
    /// another job. Only the job it failed in — requeued from the dashboard — brings a failed action back; a job
    /// that waited for a busy call while another run settled the action must not send it again.
    /// </summary>
    public static async Task<(long? EventId, int Attempt, long? ReplayOf)?> BeginAttemptAsync(NpgsqlConnection connection, long actionId,
        string jobId, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "UPDATE call_actions SET attempts = attempts + 1, state = 'pending', last_attempt_at = now(), " +
            "first_attempt_at = COALESCE(first_attempt_at, now()), updated_at = now(), job_id = $2 " +
            "WHERE id = $1 AND (state = 'pending' OR (state = 'failed' AND job_id = $2)) RETURNING event_id, attempts, replay_of", connection);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = actionId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = jobId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }
        return (reader.IsDBNull(0) ? null : reader.GetInt64(0), reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetInt64(2));
    }

    public static Task RecordAsync(NpgsqlConnection connection, long actionId, ActionOutcome outcome, CancellationToken ct) =>
        ExecuteAsync(connection,
            "UPDATE call_actions SET state = $2, last_error = $3, last_http_status = $4, last_error_kind = $5, updated_at = now(), " +
            "completed_at = CASE WHEN $2 = 'succeeded' THEN now() ELSE completed_at END WHERE id = $1",
            ct, actionId, StateAfter(outcome),
            (object?)outcome.Error ?? DBNull.Value, (object?)outcome.HttpStatus ?? DBNull.Value, (object?)outcome.ErrorKind ?? DBNull.Value);

    /// <summary>
    /// Retries are exhausted: the job's actions show as failed until someone retries them. Only the actions this job
    /// owns: a batch creates a failed action's job already Failed and records the outcome and that job together
    /// itself — marking it here, before, showed the action failed while it still pointed at the batch.
    /// </summary>
    public static void MarkExhausted(NpgsqlDataSource dataSource, long[] actionIds, string jobId)
    {
        using var command = dataSource.CreateCommand(
            "UPDATE call_actions SET state = 'failed', updated_at = now() WHERE id = ANY($1) AND state = 'pending' AND job_id = $2");
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = actionIds });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = jobId });
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// The batch's actions still its own to run — not succeeded, and not handed to another job meanwhile (a
    /// re-run after a crash must not repeat work its first run passed on; 'failed' here can only mean this batch
    /// job itself ran out of retries and is being requeued from the dashboard) — each with whether its call's lock was
    /// taken. The lock is tried, never waited for: a batch must not stall on one busy call or deadlock against
    /// another batch. This connection holds the locks until <see cref="UnlockAllAsync"/>.
    /// </summary>
    public static async Task<List<(BatchAttempt Action, bool Locked)>> ClaimBatchAsync(NpgsqlConnection connection, long[] actionIds,
        string batchJobId, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "SELECT id, action, call_id, event_id, replay_of, pg_try_advisory_lock(hashtextextended('call:' || call_id, 0)) FROM call_actions " +
            "WHERE id = ANY($1) AND state IN ('pending', 'failed') AND (job_id IS NULL OR job_id = $2) ORDER BY id", connection);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = actionIds });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = batchJobId });
        var actions = new List<(BatchAttempt, bool)>(actionIds.Length);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            actions.Add((new BatchAttempt(new ActionRef(reader.GetInt64(0), reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetInt64(3), reader.IsDBNull(4) ? null : reader.GetInt64(4)), 0), reader.GetBoolean(5)));
        }
        return actions;
    }

    /// <summary>Counts one attempt for each action (their calls locked by this connection) and records the batch as their job.</summary>
    public static async Task<List<BatchAttempt>> BeginBatchAttemptsAsync(NpgsqlConnection connection, IReadOnlyList<BatchAttempt> actions,
        string batchJobId, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "UPDATE call_actions SET attempts = attempts + 1, last_attempt_at = now(), first_attempt_at = COALESCE(first_attempt_at, now()), " +
            "updated_at = now(), state = 'pending', job_id = COALESCE(job_id, $2) WHERE id = ANY($1) AND state IN ('pending', 'failed') " +
            "RETURNING id, attempts", connection);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = actions.Select(a => a.Ref.ActionId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = batchJobId });
        var counted = new Dictionary<long, int>(actions.Count);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            counted[reader.GetInt64(0)] = reader.GetInt32(1);
        }
        return actions.Where(a => counted.ContainsKey(a.Ref.ActionId)).Select(a => a with { Attempt = counted[a.Ref.ActionId] }).ToList();
    }

    /// <summary>
    /// Records every outcome of a batch, and the job a failed action continues in, in one statement: nobody ever
    /// sees a failed action still pointing at the batch. Guarded by the attempt number, so an outcome never
    /// overwrites a later attempt that its retry job may already have made.
    /// </summary>
    public static async Task RecordBatchAsync(NpgsqlConnection connection,
        IReadOnlyList<(BatchAttempt Attempt, ActionOutcome Outcome, string? NextJobId)> results, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "UPDATE call_actions a SET state = v.state, last_error = v.error, last_http_status = v.status, last_error_kind = v.kind, " +
            "job_id = COALESCE(v.job_id, a.job_id), updated_at = now(), " +
            "completed_at = CASE WHEN v.state = 'succeeded' THEN now() ELSE a.completed_at END " +
            "FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::int[]) " +
            "AS v(id, state, error, status, kind, job_id, attempt) WHERE a.id = v.id AND a.attempts = v.attempt",
            connection);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = results.Select(r => r.Attempt.ActionId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = results.Select(r => StateAfter(r.Outcome)).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = results.Select(r => r.Outcome.Error).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<int?[]> { TypedValue = results.Select(r => r.Outcome.HttpStatus).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = results.Select(r => r.Outcome.ErrorKind).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = results.Select(r => r.NextJobId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = results.Select(r => r.Attempt.Attempt).ToArray() });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Points pending actions that are still the batch's at the job that waits for their busy call. An action that
    /// another job has settled or taken over meanwhile stays as it is (the waiting job then finds nothing to do: see
    /// <see cref="BeginAttemptAsync"/>) — e.g. when Hangfire ran the batch twice at once and the other run holds the call.
    /// </summary>
    public static async Task HandOverAsync(NpgsqlConnection connection, IReadOnlyList<(long ActionId, string JobId)> handovers,
        string batchJobId, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "UPDATE call_actions a SET job_id = v.job_id, updated_at = now() FROM unnest($1::bigint[], $2::text[]) AS v(id, job_id) " +
            "WHERE a.id = v.id AND a.state = 'pending' AND (a.job_id IS NULL OR a.job_id = $3 OR a.job_id = v.job_id)",
            connection);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = handovers.Select(h => h.ActionId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = handovers.Select(h => h.JobId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = batchJobId });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Releases every call lock this connection holds (it goes back to the pool without a reset).</summary>
    public static Task UnlockAllAsync(NpgsqlConnection connection) =>
        ExecuteAsync(connection, "SELECT pg_advisory_unlock_all()", CancellationToken.None);

    private static string StateAfter(ActionOutcome outcome) => outcome.Succeeded ? "succeeded" : outcome.Permanent ? "failed" : "pending";

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

/// <summary>One action a batch attempts, as the ledger counted it.</summary>
internal sealed record BatchAttempt(ActionRef Ref, int Attempt)
{
    public long ActionId => Ref.ActionId;
    public string Action => Ref.Action;
    public string CallId => Ref.CallId;
}
