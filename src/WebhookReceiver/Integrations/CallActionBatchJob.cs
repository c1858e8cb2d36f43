using System.Collections.Concurrent;
using Hangfire;
using Hangfire.Common;
using Hangfire.Server;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using WebhookReceiver.Data;
using WebhookReceiver.Jobs;
using WebhookReceiver.Observability;

namespace WebhookReceiver.Integrations;

/// <summary>
/// First attempt of up to Jobs:ActionsPerJob actions in one Hangfire job. Hangfire.PostgreSql spends a dozen
/// statements and several commits on every job whatever it does; one job per action capped the drain near
/// 150 actions/s on 2 cores. Here a batch costs one job plus four statements of its own (attempts, call
/// records, outcomes, hand-overs) and its sends run in parallel.
///
/// Per-action visibility stays: every action's state is in call_actions (GET /calls/{id}); an action that does
/// not succeed leaves the batch as its own CallActionJob — scheduled for its retry, or Failed at once when
/// permanent — so the dashboard lists each failing action by itself, retryable there. The batch job succeeds
/// when every action was either done or handed on.
/// </summary>
internal sealed class CallActionBatchJob(
    NpgsqlDataSource dataSource, AppDbContext db, ActionSender sender, IBackgroundJobClient jobs, RetryPolicyFilter retryPolicy,
    ActionMetrics metrics, IOptions<JobsOptions> options, ILogger<CallActionBatchJob> logger)
{
    [System.ComponentModel.DisplayName("{1}")]
    public async Task RunAsync(long[] actionIds, string summary, PerformContext? context, CancellationToken cancellationToken)
    {
        var batchJobId = context?.BackgroundJob.Id ?? throw new InvalidOperationException("Hangfire supplies the PerformContext");
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var handovers = new List<(long ActionId, string JobId)>();
        try
        {
            var claimed = await ActionLedger.ClaimBatchAsync(connection, actionIds, batchJobId, cancellationToken);
            foreach (var (busy, _) in claimed.Where(c => !c.Locked))
            {
                // Another job holds this call: let a single job wait for it (no attempt counted here).
                handovers.Add((busy.ActionId,
                    jobs.Enqueue<CallActionJob>(j => j.RunAsync(busy.ActionId, busy.Action, busy.CallId, null, CancellationToken.None))));
            }
            var mine = await ActionLedger.BeginBatchAttemptsAsync(connection, claimed.Where(c => c.Locked).Select(c => c.Action).ToList(),
                batchJobId, cancellationToken);
            var results = await SendAllAsync(mine, cancellationToken);
            // The follow-up jobs first, so their ids are recorded with the outcomes (one statement, see the ledger).
            var recorded = results.Select(r => r.Outcome.Succeeded
                ? (r.Attempt, r.Outcome, NextJobId: (string?)null)
                : HandOnFailure(r.Attempt, r.Outcome)).ToList();
            await ActionLedger.RecordBatchAsync(connection, recorded, CancellationToken.None);
            if (handovers.Count > 0)
            {
                await ActionLedger.HandOverAsync(connection, handovers, batchJobId, CancellationToken.None);
            }
            logger.LogInformation("Batch {JobId}: {Succeeded} of {Count} actions succeeded, {HandedOn} handed to their own jobs",
                batchJobId, results.Count(r => r.Outcome.Succeeded), actionIds.Length, handovers.Count + recorded.Count(r => r.NextJobId is not null));
        }
        finally
        {
            await ActionLedger.UnlockAllAsync(connection);
        }
    }

    /// <summary>Calls in parallel (up to Jobs:SendParallelism), the actions of one call in order.</summary>
    private async Task<List<(BatchAttempt Attempt, ActionOutcome Outcome)>> SendAllAsync(List<BatchAttempt> attempts, CancellationToken ct)
    {
        var callIds = attempts.Select(a => a.CallId).Distinct().ToList();
        var records = await db.Calls.AsNoTracking().Where(c => callIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, StringComparer.Ordinal, ct);
        var results = new ConcurrentBag<(BatchAttempt, ActionOutcome)>();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Value.SendParallelism, CancellationToken = ct };
        await Parallel.ForEachAsync(attempts.GroupBy(a => a.CallId, StringComparer.Ordinal), parallel, async (call, token) =>
        {
            using var scope = logger.BeginScope(new Dictionary<string, object> { ["CallId"] = call.Key });
            foreach (var attempt in call.OrderBy(a => a.ActionId))
            {
                var outcome = await sender.SendAsync(attempt.Ref, records.GetValueOrDefault(attempt.CallId), token);
                results.Add((attempt, outcome));
                metrics.RecordAttempt(attempt.Action, outcome);
                if (outcome.Succeeded)
                {
                    logger.LogDebug("{Action} for call {CallId} succeeded on attempt {Attempt}", attempt.Action, attempt.CallId, attempt.Attempt);
                }
                else
                {
                    logger.LogWarning("{Action} for call {CallId} failed on attempt {Attempt}: {Error}", attempt.Action, attempt.CallId, attempt.Attempt, outcome.Error);
                }
            }
        });
        return [.. results];
    }

    /// <summary>
    /// The failed action becomes its own job, in the state the retry policy gives its first failure: Scheduled
    /// for retry 1 (RetryCount already 1, so the policy's count goes on from there), or Failed for good — then the
    /// outcome is recorded as final too.
    /// </summary>
    private (BatchAttempt Attempt, ActionOutcome Outcome, string? NextJobId) HandOnFailure(BatchAttempt attempt, ActionOutcome outcome)
    {
        Exception failure = outcome.Permanent
            ? new PermanentActionException(outcome.Error!)
            : new TransientActionException(outcome.Error!, outcome.RetryAfter);
        var job = Job.FromExpression<CallActionJob>(j => j.RunAsync(attempt.ActionId, attempt.Action, attempt.CallId, null, CancellationToken.None));
        if (retryPolicy.RetryState(failure, 0) is { } retry)
        {
            return (attempt, outcome,
                ((IBackgroundJobClientV2)jobs).Create(job, retry, new Dictionary<string, object> { [RetryPolicyFilter.RetryCountParameter] = 1 }));
        }
        var failed = jobs.Create(job, new FailedState(failure) { Reason = outcome.Permanent ? "Permanent failure" : "No retries configured" });
        return (attempt, outcome with { Permanent = true }, failed);
    }

    /// <summary>What the dashboard lists for a batch: its size, actions and first calls.</summary>
    public static string Summary(IReadOnlyList<(long Id, string Action, string CallId)> actions)
    {
        var kinds = string.Join(", ", actions.GroupBy(a => a.Action).Select(g => $"{g.Key} ×{g.Count()}"));
        var calls = actions.Select(a => a.CallId).Distinct().ToList();
        var shown = string.Join(", ", calls.Take(3)) + (calls.Count > 3 ? $" +{calls.Count - 3} more" : "");
        return $"{actions.Count} actions ({kinds}) for {shown}";
    }
}
