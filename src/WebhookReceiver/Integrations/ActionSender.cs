using Microsoft.Extensions.Options;
using WebhookReceiver.Calls;
using WebhookReceiver.Data;
using WebhookReceiver.Integrations.Crm;
using WebhookReceiver.Integrations.Tickets;

namespace WebhookReceiver.Integrations;

/// <summary>
/// Sends one attempt of one action for a call record already loaded, so a batch loads all its calls in one
/// query and a single job loads one. Never throws for the remote's failures: they come back as an outcome.
/// </summary>
internal sealed class ActionSender(IntegrationSender sender, IOptions<CrmOptions> crm, IOptions<TicketOptions> tickets, TimeProvider clock)
{
    public const string CrmSync = "crm.sync";
    public const string TicketCreate = "ticket.create";

    /// <summary>
    /// The same key on every attempt, so the remote side can drop a repeat whose first answer was lost. An
    /// operator's replay is meant to be applied again, so it carries a key of its own.
    /// </summary>
    public static string IdempotencyKey(string action, string callId, long? eventId, long actionId, bool replay)
    {
        var key = action == TicketCreate ? $"{TicketCreate}:{callId}" : $"{action}:{eventId}";
        return replay ? $"{key}:replay:{actionId}" : key;
    }

    public async Task<ActionOutcome> SendAsync(ActionRef action, CallRecord? record, CancellationToken ct)
    {
        var (actionId, name, callId, eventId, replay) = (action.ActionId, action.Action, action.CallId, action.EventId, action.ReplayOf is not null);
        if (record is null)
        {
            return ActionOutcome.Fatal(null, ActionErrorKind.Internal, $"call {callId} does not exist");
        }
        var call = CallSummary.Of(record);
        var key = IdempotencyKey(name, callId, eventId, actionId, replay);
        return name switch
        {
            CrmSync => await sender.PostAsync("crm", crm.Value, "calls", key, new CrmSyncPayload(callId, eventId, clock.GetUtcNow(), call), ct),
            TicketCreate => await sender.PostAsync("tickets", tickets.Value, "tickets", key, TicketPayload.For(call), ct),
            _ => ActionOutcome.Fatal(null, ActionErrorKind.Internal, $"unknown action '{name}'"),
        };
    }
}

/// <summary>What a send needs to know about an action row.</summary>
internal sealed record ActionRef(long ActionId, string Action, string CallId, long? EventId, long? ReplayOf);
