using Hangfire.Server;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using WebhookReceiver.Data;
using WebhookReceiver.Observability;

namespace WebhookReceiver.Integrations;

/// <summary>
/// Runs one action of one call: the retries of an attempt a batch (CallActionBatchJob) could not complete, an
/// action whose call was busy in another job, and anything requeued from the dashboard. Takes IDs only and
/// reloads everything, so a retry or a duplicate job sends the call's *current* record and never repeats a
/// success (the ledger decides). Retry policy: Jobs/RetryPolicyFilter (delays from Jobs:RetryDelaysSeconds,
/// Retry-After honoured).
/// </summary>
internal sealed class CallActionJob(
    NpgsqlDataSource dataSource, AppDbContext db, ActionSender sender, ActionMetrics metrics, ILogger<CallActionJob> logger)
{
    [System.ComponentModel.DisplayName("{1} for call {2} (action {0})")]
    public async Task RunAsync(long actionId, string action, string callId, PerformContext? context, CancellationToken cancellationToken)
    {
        var jobId = context?.BackgroundJob.Id ?? throw new InvalidOperationException("Hangfire supplies the PerformContext");
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["CallId"] = callId, ["ActionId"] = actionId });
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await ActionLedger.LockCallAsync(connection, callId, cancellationToken);
        try
        {
            var attempt = await ActionLedger.BeginAttemptAsync(connection, actionId, jobId, cancellationToken);
            if (attempt is null)
            {
                logger.LogInformation("{Action} for call {CallId} already succeeded, or failed in another job: nothing sent", action, callId);
                return;
            }
            var record = await db.Calls.AsNoTracking().FirstOrDefaultAsync(c => c.Id == callId, cancellationToken);
            var outcome = await sender.SendAsync(new ActionRef(actionId, action, callId, attempt.Value.EventId, attempt.Value.ReplayOf), record, cancellationToken);
            await ActionLedger.RecordAsync(connection, actionId, outcome, CancellationToken.None);
            metrics.RecordAttempt(action, outcome);
            if (outcome.Succeeded)
            {
                logger.LogInformation("{Action} for call {CallId} succeeded on attempt {Attempt}", action, callId, attempt.Value.Attempt);
                return;
            }
            logger.LogWarning("{Action} for call {CallId} failed on attempt {Attempt}: {Error}", action, callId, attempt.Value.Attempt, outcome.Error);
            throw outcome.Permanent
                ? new PermanentActionException(outcome.Error!)
                : new TransientActionException(outcome.Error!, outcome.RetryAfter);
        }
        finally
        {
            await ActionLedger.UnlockCallAsync(connection, callId);
        }
    }
}
