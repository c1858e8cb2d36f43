using Hangfire;
using Hangfire.States;
using Npgsql;
using WebhookReceiver.Integrations;
using WebhookReceiver.Jobs;

namespace WebhookReceiver.Recovery;

/// <summary>What became of an operator's request about one action.</summary>
internal enum RecoveryOutcome { Done, NotFound, Conflict }

internal sealed record RecoveryResult(RecoveryOutcome Outcome, string Detail);

/// <summary>
/// Retrying hands an action back to the outbox (pending, undispatched): the dispatcher batches it like new work,
/// with a fresh retry budget, and the stale Hangfire job (Failed, or a Scheduled retry) is deleted so it can
/// neither fire later nor linger in the dashboard. Cancelling deletes a Scheduled retry and marks the action
/// failed (kind "canceled"), so it shows among the failures and can be retried later. Every write is a guarded
/// UPDATE: two operators (or an operator and a worker) cannot both win.
/// </summary>
internal sealed class ActionRecovery(NpgsqlDataSource dataSource, IBackgroundJobClient jobs, OutboxSignal outbox, ILogger<ActionRecovery> audit)
{
    private const int Chunk = 500;

    private static string ReleaseSql(string condition) =>
        $"WITH picked AS (SELECT id, job_id FROM call_actions WHERE {condition} ORDER BY id LIMIT {Chunk} FOR UPDATE SKIP LOCKED) " +
        "UPDATE call_actions a SET state = 'pending', dispatched_at = NULL, job_id = NULL, requested_by = $1, updated_at = now() " +
        "FROM picked p WHERE a.id = p.id RETURNING a.id, a.call_id, p.job_id";

    public async Task<RecoveryResult> RetryAsync(long actionId, string requestedBy, CancellationToken ct)
    {
        var current = await ReadAsync(actionId, ct);
        if (current is null)
        {
            return new(RecoveryOutcome.NotFound, $"There is no action {actionId}.");
        }
        var (state, jobId) = current.Value;
        if (state == "succeeded")
        {
            return new(RecoveryOutcome.Conflict, $"Action {actionId} already succeeded; replay its event to send it again on purpose.");
        }
        if (state == "pending" && (jobId is null || !jobs.Delete(jobId, ScheduledState.StateName)))
        {
            return new(RecoveryOutcome.Conflict, $"Action {actionId} is already queued or running.");
        }
        // A Scheduled retry was just deleted (still pending), or it failed: hand it back to the outbox.
        var released = await ReleaseAsync(requestedBy, "id = $2 AND state IN ('failed', 'pending')", c => c.Parameters.AddWithValue(actionId), ct);
        if (released.Count == 0)
        {
            return new(RecoveryOutcome.Conflict, $"Action {actionId} changed meanwhile; look again.");
        }
        DeleteStaleJobs(released);
        audit.LogInformation("Operator {Operator} retried action {ActionId} of call {CallId}", requestedBy, actionId, released[0].CallId);
        return new(RecoveryOutcome.Done, "Handed back to the dispatcher; it runs within moments.");
    }

    public async Task<RecoveryResult> CancelAsync(long actionId, string requestedBy, CancellationToken ct)
    {
        var current = await ReadAsync(actionId, ct);
        if (current is null)
        {
            return new(RecoveryOutcome.NotFound, $"There is no action {actionId}.");
        }
        var (state, jobId) = current.Value;
        if (state != "pending" || jobId is null || !await CancelScheduledAsync(actionId, jobId, requestedBy, ct))
        {
            return new(RecoveryOutcome.Conflict, $"Action {actionId} has no scheduled retry to cancel (state {state}).");
        }
        return new(RecoveryOutcome.Done, "Scheduled retry cancelled; the action is failed (kind canceled) until retried.");
    }

    /// <summary>Retries every failed action matching the filter, in chunks, until none is left. Returns how many.</summary>
    public async Task<int> RetryAllAsync(ActionFilter filter, string requestedBy, CancellationToken ct)
    {
        var total = 0;
        var after = 0L;
        while (true)
        {
            var released = await ReleaseAsync(requestedBy, $"state = 'failed' AND id > $2 AND {ActionFilter.Sql(3)}", c =>
            {
                c.Parameters.AddWithValue(after);
                filter.AddParameters(c);
            }, ct);
            if (released.Count == 0)
            {
                return total;
            }
            DeleteStaleJobs(released);
            total += released.Count;
            after = released.Max(r => r.ActionId);
            audit.LogInformation("Operator {Operator} bulk retry: {Count} more actions handed back ({Total} so far)", requestedBy, released.Count, total);
        }
    }

    /// <summary>Cancels the scheduled retry of every pending action matching the filter. Returns how many.</summary>
    public async Task<int> CancelAllAsync(ActionFilter filter, string requestedBy, CancellationToken ct)
    {
        var total = 0;
        var after = 0L;
        while (true)
        {
            var page = new List<(long Id, string JobId)>();
            await using (var command = dataSource.CreateCommand(
                $"SELECT id, job_id FROM call_actions WHERE state = 'pending' AND job_id IS NOT NULL AND id > $1 AND {ActionFilter.Sql(2)} ORDER BY id LIMIT {Chunk}"))
            {
                command.Parameters.AddWithValue(after);
                filter.AddParameters(command);
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    page.Add((reader.GetInt64(0), reader.GetString(1)));
                }
            }
            if (page.Count == 0)
            {
                return total;
            }
            foreach (var (id, jobId) in page)
            {
                total += await CancelScheduledAsync(id, jobId, requestedBy, ct) ? 1 : 0;
            }
            after = page[^1].Id;
        }
    }

    private async Task<bool> CancelScheduledAsync(long actionId, string jobId, string requestedBy, CancellationToken ct)
    {
        // Deleting only from Scheduled: a retry that already started is not pulled from under its worker.
        if (!jobs.Delete(jobId, ScheduledState.StateName))
        {
            return false;
        }
        await using var command = dataSource.CreateCommand(
            "UPDATE call_actions SET state = 'failed', last_error_kind = $3, last_error = $4, requested_by = $5, updated_at = now() " +
            "WHERE id = $1 AND state = 'pending' AND job_id = $2 RETURNING call_id");
        command.Parameters.AddWithValue(actionId);
        command.Parameters.AddWithValue(jobId);
        command.Parameters.AddWithValue(ActionErrorKind.Canceled);
        command.Parameters.AddWithValue($"Scheduled retry cancelled by {requestedBy}");
        command.Parameters.AddWithValue(requestedBy);
        var callId = await command.ExecuteScalarAsync(ct);
        audit.LogInformation("Operator {Operator} cancelled the scheduled retry of action {ActionId} of call {CallId}", requestedBy, actionId, callId);
        return callId is not null;
    }

    private async Task<(string State, string? JobId)?> ReadAsync(long actionId, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT state, job_id FROM call_actions WHERE id = $1");
        command.Parameters.AddWithValue(actionId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1)) : null;
    }

    private async Task<List<(long ActionId, string CallId, string? OldJobId)>> ReleaseAsync(string requestedBy, string condition,
        Action<NpgsqlCommand> parameters, CancellationToken ct)
    {
        var released = new List<(long, string, string?)>();
        await using (var command = dataSource.CreateCommand(ReleaseSql(condition)))
        {
            command.Parameters.AddWithValue(requestedBy);
            parameters(command);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                released.Add((reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
            }
        }
        if (released.Count > 0)
        {
            outbox.Notify();
        }
        return released;
    }

    /// <summary>The old Failed job would otherwise stay listed (and a dashboard requeue of it would be a second retry).</summary>
    private void DeleteStaleJobs(IEnumerable<(long ActionId, string CallId, string? OldJobId)> released)
    {
        foreach (var jobId in released.Select(r => r.OldJobId).OfType<string>().Distinct())
        {
            jobs.Delete(jobId, FailedState.StateName);
        }
    }
}
