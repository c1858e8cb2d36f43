using Npgsql;
using WebhookReceiver.Data;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Delivery;

/// <summary>What became of an operator's request about one action.</summary>
internal enum RecoveryOutcome { Done, NotFound, Conflict }

internal sealed record RecoveryResult(RecoveryOutcome Outcome, string Detail);

/// <summary>
/// An operator's retry and cancel, as guarded updates of the rows alone: no Hangfire job is touched, so nothing
/// else can be left behind (the batch an action was part of keeps or loses only its own lease). Retrying makes an
/// action due now with a fresh retry budget; cancelling makes a pending action that nobody is sending failed
/// (kind canceled), retryable later. Two operators (or an operator and a worker) cannot both win.
/// </summary>
internal sealed class ActionRecovery(NpgsqlDataSource dataSource, WorkSignal work, ILogger<ActionRecovery> audit)
{
    private const int Chunk = 500;

    /// <summary>Failed or skipped, or pending and not being sent right now (waiting for its first attempt or a retry).</summary>
    private const string Retryable =
        $"(state IN ('{ActionState.Failed}', '{ActionState.Skipped}') OR (state = '{ActionState.Pending}' AND {ActionState.Unowned}))";

    /// <summary>What a cancel (one or bulk) applies to: pending and not being sent right now.</summary>
    public const string Cancelable = $"state = '{ActionState.Pending}' AND {ActionState.Unowned}";

    /// <summary>What a bulk retry applies to: failed for good, or skipped while the destination was off.</summary>
    public const string BulkRetryable = $"state IN ('{ActionState.Failed}', '{ActionState.Skipped}')";

    private const string RetrySet =
        $"state = '{ActionState.Pending}', next_attempt_at = now(), retry_from = attempts, lease_owner = NULL, lease_until = NULL, " +
        "completed_at = NULL, requested_by = $1, updated_at = now()";

    public async Task<RecoveryResult> RetryAsync(long actionId, string requestedBy, CancellationToken ct)
    {
        var changed = await UpdateOneAsync(
            $"UPDATE call_actions SET {RetrySet} WHERE id = $2 AND {Retryable} RETURNING call_id", actionId, requestedBy, ct);
        if (changed is null)
        {
            return await WhyNotAsync(actionId, "retried", ct);
        }
        work.Notify();
        audit.LogInformation("Operator {Operator} retried action {ActionId} of call {CallId}", requestedBy, actionId, changed);
        return new(RecoveryOutcome.Done, "Due now, with a fresh retry budget; the dispatcher sends it within moments.");
    }

    public async Task<RecoveryResult> CancelAsync(long actionId, string requestedBy, CancellationToken ct)
    {
        var changed = await UpdateOneAsync(
            $"UPDATE call_actions SET {CancelSet} WHERE id = $2 AND {Cancelable} RETURNING call_id", actionId, requestedBy, ct);
        if (changed is null)
        {
            return await WhyNotAsync(actionId, "cancelled", ct);
        }
        audit.LogInformation("Operator {Operator} cancelled action {ActionId} of call {CallId}", requestedBy, actionId, changed);
        return new(RecoveryOutcome.Done, "Cancelled; the action is failed (kind canceled) until retried.");
    }

    private static string CancelSet =>
        $"state = '{ActionState.Failed}', last_error_kind = '{ActionErrorKind.Canceled}', last_error = 'Cancelled by ' || $1, " +
        "lease_owner = NULL, lease_until = NULL, requested_by = $1, updated_at = now()";

    /// <summary>Retries every failed or skipped action matching the filter, in chunks, until none is left. Returns how many.</summary>
    public Task<int> RetryAllAsync(ActionFilter filter, string requestedBy, CancellationToken ct) =>
        InChunksAsync(BulkRetryable, RetrySet, filter, requestedBy, "retried", ct);

    /// <summary>Cancels every pending action matching the filter that is not being sent right now. Returns how many.</summary>
    public Task<int> CancelAllAsync(ActionFilter filter, string requestedBy, CancellationToken ct) =>
        InChunksAsync(Cancelable, CancelSet, filter, requestedBy, "cancelled", ct);

    private async Task<int> InChunksAsync(
        string condition, string set, ActionFilter filter, string requestedBy, string verb, CancellationToken ct)
    {
        var total = 0;
        var after = 0L;
        while (true)
        {
            await using var command = dataSource.CreateCommand(
                $"WITH picked AS (SELECT id FROM call_actions WHERE {condition} AND id > $2 AND {ActionFilter.Sql(3)} " +
                $"  ORDER BY id LIMIT {Chunk} FOR UPDATE SKIP LOCKED) " +
                $"UPDATE call_actions a SET {set} FROM picked WHERE a.id = picked.id RETURNING a.id");
            command.Parameters.AddWithValue(requestedBy);
            command.Parameters.AddWithValue(after);
            filter.AddParameters(command);
            var ids = new List<long>();
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    ids.Add(reader.GetInt64(0));
                }
            }
            if (ids.Count == 0)
            {
                return total;
            }
            work.Notify();
            total += ids.Count;
            after = ids.Max();
            audit.LogInformation("Operator {Operator} bulk {Verb}: {Count} more actions ({Total} so far)",
                requestedBy, verb, ids.Count, total);
        }
    }

    private async Task<string?> UpdateOneAsync(string sql, long actionId, string requestedBy, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.AddWithValue(requestedBy);
        command.Parameters.AddWithValue(actionId);
        return await command.ExecuteScalarAsync(ct) as string;
    }

    private async Task<RecoveryResult> WhyNotAsync(long actionId, string verb, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"SELECT state, NOT {ActionState.Unowned} FROM call_actions WHERE id = $1");
        command.Parameters.AddWithValue(actionId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return new(RecoveryOutcome.NotFound, $"There is no action {actionId}.");
        }
        var (state, running) = (reader.GetString(0), reader.GetBoolean(1));
        return new(RecoveryOutcome.Conflict, state switch
        {
            ActionState.Succeeded => $"Action {actionId} already succeeded; replay its event to send it again on purpose.",
            ActionState.Pending when running => $"Action {actionId} is being sent right now; look again in a moment.",
            _ => $"Action {actionId} cannot be {verb} in state {state}.",
        });
    }
}
