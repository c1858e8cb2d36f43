using Npgsql;
using NpgsqlTypes;
using WebhookReceiver.Data;

namespace WebhookReceiver.Delivery;

/// <summary>An action as a batch job attempts it.</summary>
internal sealed record LeasedAction(
    long Id, string Action, string CallId, long? EventId, long? ReplayOf, int Attempts, int RetryFrom, byte[]? Payload,
    string? TraceParent = null)
{
    public string IdempotencyKey => Delivery.IdempotencyKey.For(Action, CallId, EventId, Id, ReplayOf is not null);
}

/// <summary>How a batch leaves one of its actions: attempted (with its outcome and settlement) or handed back untouched.</summary>
internal sealed record ActionResult(LeasedAction Action, ActionOutcome? Outcome, Settlement? Settlement)
{
    public bool Sent => Outcome is not null;

    public static ActionResult NotSent(LeasedAction action) => new(action, null, null);
}

/// <summary>
/// The call_actions rows as the one source of truth of the work. A batch owns its rows through a lease
/// (lease_owner, lease_until) set when the dispatcher claims them; every write of a batch is guarded by that lease,
/// and a lease that runs out makes its rows claimable again (<see cref="ActionState.Unowned"/>): a job deleted in the
/// dashboard, a process killed or stopped, a batch that threw — all end the same way, with no special case.
/// </summary>
internal sealed class ActionLedger(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Claims the oldest due (at least <paramref name="lag"/> ago: the dispatcher giving way to ingest), unowned pending
    /// actions of one action type for a new batch. Per call and action, only
    /// the oldest pending one is claimable: a call's CRM updates go out one at a time and in order, whichever process
    /// runs them. Returns each with whether a lease had run out on it (re-owned work).
    /// </summary>
    public async Task<List<(long Id, string CallId, bool Reowned)>> ClaimAsync(string action, int limit, Guid lease, TimeSpan ttl,
        TimeSpan lag, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            $"WITH picked AS (SELECT c.id, c.lease_owner FROM call_actions c WHERE {ClaimableSql("$1")} " +
            "  AND c.next_attempt_at <= now() - make_interval(secs => $5) " +
            "  ORDER BY c.next_attempt_at, c.id LIMIT $2 FOR UPDATE OF c SKIP LOCKED) " +
            "UPDATE call_actions a SET lease_owner = $3, lease_until = now() + make_interval(secs => $4) FROM picked " +
            "WHERE a.id = picked.id RETURNING a.id, a.call_id, picked.lease_owner IS NOT NULL");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = action });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = lease });
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = ttl.TotalSeconds });
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = lag.TotalSeconds });
        var claimed = new List<(long, string, bool)>(limit);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            claimed.Add((reader.GetInt64(0), reader.GetString(1), reader.GetBoolean(2)));
        }
        return claimed;
    }

    /// <summary>
    /// What a batch may claim, as a condition on <c>call_actions c</c>: pending rows of the action named by the SQL
    /// parameter <paramref name="action"/> that are due, unowned, and the oldest pending one of their call and action.
    /// The older-sibling check says <c>(o.state = 'pending') IS TRUE</c> (the same for a NOT NULL column) so that the
    /// planner cannot prove the due index's predicate for it and must look each row's call up by
    /// <c>(call_id, id)</c>: with statistics taken while nothing was pending (autovacuum after a drain) it otherwise
    /// scanned every pending row of the action for every candidate, quadratic in a burst's backlog (ClaimPlanTests).
    /// </summary>
    public static string ClaimableSql(string action) =>
        $"c.state = '{ActionState.Pending}' AND c.action = {action} AND c.next_attempt_at <= now() AND {ActionState.Unowned} " +
        "AND NOT EXISTS (SELECT 1 FROM call_actions o WHERE o.call_id = c.call_id AND o.action = c.action " +
        $"AND (o.state = '{ActionState.Pending}') IS TRUE AND o.id < c.id)";

    /// <summary>
    /// The batch's rows still its own (lease live), with the job now running them recorded (the dashboard link) and
    /// their lease renewed. A late or repeated run of a job whose lease ran out gets nothing: someone else owns the work.
    /// </summary>
    public async Task<List<LeasedAction>> BeginAsync(long[] ids, Guid lease, string? jobId, TimeSpan ttl, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE call_actions SET job_id = coalesce($3, job_id), lease_until = now() + make_interval(secs => $4) " +
            $"WHERE id = ANY($1) AND lease_owner = $2 AND lease_until > now() AND state = '{ActionState.Pending}' " +
            "RETURNING id, action, call_id, event_id, replay_of, attempts, retry_from, payload, trace_parent");
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = ids });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = lease });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)jobId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = ttl.TotalSeconds });
        var rows = new List<LeasedAction>(ids.Length);
        await using var r = await command.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            rows.Add(new LeasedAction(r.GetInt64(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetInt64(3),
                r.IsDBNull(4) ? null : r.GetInt64(4), r.GetInt32(5), r.GetInt32(6), r.IsDBNull(7) ? null : (byte[])r[7],
                r.IsDBNull(8) ? null : r.GetString(8)));
        }
        return rows.OrderBy(a => a.Id).ToList();
    }

    /// <summary>
    /// Fixes the bodies of first attempts before anything is sent: a crash after a send cannot change what a retry
    /// sends. Returns the body each row now holds, for the rows this batch still owns: a body stored first by another
    /// owner wins, and a row lost meanwhile is not this batch's to send at all.
    /// </summary>
    public async Task<Dictionary<long, byte[]>> SnapshotAsync(
        Guid lease, IReadOnlyList<(long Id, byte[] Payload)> bodies, CancellationToken ct)
    {
        var stored = new Dictionary<long, byte[]>(bodies.Count);
        if (bodies.Count == 0)
        {
            return stored;
        }
        await using var command = dataSource.CreateCommand(
            "UPDATE call_actions a SET payload = coalesce(a.payload, v.payload) FROM unnest($1::bigint[], $2::bytea[]) AS v(id, payload) " +
            $"WHERE a.id = v.id AND a.lease_owner = $3 AND a.lease_until > now() AND a.state = '{ActionState.Pending}' " +
            "RETURNING a.id, a.payload");
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = bodies.Select(b => b.Id).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = bodies.Select(b => b.Payload).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = lease });
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            stored[reader.GetInt64(0)] = (byte[])reader[1];
        }
        return stored;
    }

    /// <summary>
    /// Renews the batch's lease; returns the rows it still owns (a row re-owned meanwhile is no longer this batch's to send).
    /// </summary>
    public async Task<HashSet<long>> ExtendAsync(Guid lease, TimeSpan ttl, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE call_actions SET lease_until = now() + make_interval(secs => $2) " +
            $"WHERE lease_owner = $1 AND lease_until > now() AND state = '{ActionState.Pending}' RETURNING id");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = lease });
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = ttl.TotalSeconds });
        var owned = new HashSet<long>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            owned.Add(reader.GetInt64(0));
        }
        return owned;
    }

    /// <summary>
    /// Records every result of a batch in one statement and ends its lease: attempted ones with their outcome (a retry
    /// is the row's next_attempt_at, not a job), the others handed back as they were. Guarded by the lease, so a batch
    /// that lost its rows to another owner changes nothing. Returns the ids recorded.
    /// </summary>
    public static async Task<HashSet<long>> SettleAsync(
        NpgsqlConnection connection, Guid lease, IReadOnlyList<ActionResult> results, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "UPDATE call_actions a SET state = v.state, attempts = a.attempts + v.sent::int, " +
            "last_error = CASE WHEN v.sent THEN v.error ELSE a.last_error END, " +
            "last_error_kind = CASE WHEN v.sent THEN v.kind ELSE a.last_error_kind END, " +
            "last_http_status = CASE WHEN v.sent THEN v.status ELSE a.last_http_status END, " +
            "last_attempt_at = CASE WHEN v.sent THEN now() ELSE a.last_attempt_at END, " +
            "first_attempt_at = CASE WHEN v.sent THEN coalesce(a.first_attempt_at, now()) ELSE a.first_attempt_at END, " +
            "next_attempt_at = CASE WHEN v.retry_in IS NULL THEN a.next_attempt_at ELSE now() + make_interval(secs => v.retry_in) END, " +
            $"completed_at = CASE WHEN v.state = '{ActionState.Succeeded}' THEN now() ELSE a.completed_at END, " +
            "lease_owner = NULL, lease_until = NULL, updated_at = now() " +
            "FROM unnest($2::bigint[], $3::text[], $4::bool[], $5::text[], $6::text[], $7::int[], $8::float8[]) " +
            "AS v(id, state, sent, error, kind, status, retry_in) " +
            $"WHERE a.id = v.id AND a.lease_owner = $1 AND a.state = '{ActionState.Pending}' RETURNING a.id", connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = lease });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = results.Select(r => r.Action.Id).ToArray() });
        command.Parameters.Add(
            new NpgsqlParameter<string[]> { TypedValue = results.Select(r => r.Settlement?.State ?? ActionState.Pending).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<bool[]> { TypedValue = results.Select(r => r.Sent).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = results.Select(r => r.Outcome?.Error).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = results.Select(r => r.Outcome?.ErrorKind).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<int?[]> { TypedValue = results.Select(r => r.Outcome?.HttpStatus).ToArray() });
        command.Parameters.Add(
            new NpgsqlParameter<double?[]> { TypedValue = results.Select(r => r.Settlement?.RetryIn?.TotalSeconds).ToArray() });
        var recorded = new HashSet<long>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            recorded.Add(reader.GetInt64(0));
        }
        return recorded;
    }

    /// <summary>
    /// A destination without a BaseUrl is off: its due actions are recorded skipped (no job, no retry). Returns how many.
    /// </summary>
    public async Task<int> SkipAsync(string action, int limit, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            $"WITH picked AS (SELECT id FROM call_actions WHERE state = '{ActionState.Pending}' AND action = $1 " +
            "AND next_attempt_at <= now() " +
            $"  AND {ActionState.Unowned} ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) " +
            $"UPDATE call_actions a SET state = '{ActionState.Skipped}', last_error_kind = '{ActionErrorKind.NotConfigured}', " +
            "last_error = $3, completed_at = now(), lease_owner = NULL, lease_until = NULL, updated_at = now() " +
            "FROM picked WHERE a.id = picked.id");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = action });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"{action}: its destination has no BaseUrl (integration off)" });
        return await command.ExecuteNonQueryAsync(ct);
    }
}
