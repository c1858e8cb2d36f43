using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using WebhookReceiver.Calls;
using WebhookReceiver.Data;
using WebhookReceiver.Integrations.Crm;
using WebhookReceiver.Integrations.Tickets;
using WebhookReceiver.Observability;

namespace WebhookReceiver.Integrations;

/// <summary>
/// Runs one action of one call. Takes IDs only and reloads everything, so a retry or a duplicate job
/// sends the call's *current* record and never repeats a success (the ledger decides).
/// Retry policy: Jobs/RetryPolicyFilter (delays from Jobs:RetryDelaysSeconds, Retry-After honoured).
/// </summary>
internal sealed class CallActionJob(
    NpgsqlDataSource dataSource, AppDbContext db, IntegrationSender sender, IOptions<CrmOptions> crm,
    IOptions<TicketOptions> tickets, TimeProvider clock, ActionMetrics metrics, ILogger<CallActionJob> logger)
{
    public const string CrmSync = "crm.sync";
    public const string TicketCreate = "ticket.create";

    [System.ComponentModel.DisplayName("{1} for call {2} (action {0})")]
    public async Task RunAsync(long actionId, string action, string callId, CancellationToken cancellationToken)
    {
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["CallId"] = callId, ["ActionId"] = actionId });
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await ActionLedger.LockCallAsync(connection, callId, cancellationToken);
        try
        {
            var attempt = await ActionLedger.BeginAttemptAsync(connection, actionId, cancellationToken);
            if (attempt is null)
            {
                logger.LogInformation("{Action} for call {CallId} already succeeded: nothing sent", action, callId);
                return;
            }
            var outcome = await SendAsync(action, callId, actionId, attempt.Value.EventId, cancellationToken);
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

    /// <summary>The same key on every attempt, so the remote side can drop a repeat whose first answer was lost.</summary>
    public static string IdempotencyKey(string action, string callId, long? eventId) =>
        action == TicketCreate ? $"{TicketCreate}:{callId}" : $"{action}:{eventId}";

    private async Task<ActionOutcome> SendAsync(string action, string callId, long actionId, long? eventId, CancellationToken ct)
    {
        var record = await db.Calls.AsNoTracking().FirstOrDefaultAsync(c => c.Id == callId, ct)
                     ?? throw new InvalidOperationException($"call {callId} of action {actionId} does not exist");
        var call = CallSummary.Of(record);
        var key = IdempotencyKey(action, callId, eventId);
        return action switch
        {
            CrmSync => await sender.PostAsync("crm", crm.Value, "calls", key, new CrmSyncPayload(callId, eventId, clock.GetUtcNow(), call), ct),
            TicketCreate => await sender.PostAsync("tickets", tickets.Value, "tickets", key, TicketPayload.For(call), ct),
            _ => ActionOutcome.Fatal(null, ActionErrorKind.Internal, $"unknown action '{action}'"),
        };
    }
}
