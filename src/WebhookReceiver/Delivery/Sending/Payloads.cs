using System.Text.Json;
using WebhookReceiver.Calls;
using WebhookReceiver.Data;

namespace WebhookReceiver.Delivery;

/// <summary>
/// POST {Crm:BaseUrl}/calls — the call's record when the action was first attempted; the CRM upserts it by <c>call_id</c>.
/// </summary>
internal sealed record CrmSyncPayload(string CallId, long? EventId, DateTimeOffset SyncedAt, CallSummary Call);

/// <summary>POST {Tickets:BaseUrl}/tickets — one support ticket per call that ended in a destination failure.</summary>
internal sealed record TicketPayload(
    string CallId, string Subject, string Description, string? Status, string? CustomerId, DateTime? EndedAt, CallSummary Call)
{
    public static TicketPayload For(CallSummary call) => call.IsFinal || !call.Stale
        ? new(call.Id,
            $"Call {call.Id} ended: {call.Status}",
            $"MiniVoice call {call.Id} from {call.From ?? "unknown"} to {call.To ?? "unknown"} ended with status '{call.Status}'.",
            call.Status, call.CustomerId, call.LastEventAt, call)
        // Opened by the stale-call sweep (Workflows:TicketOnStaleCall): the call has no end, say so.
        : new(call.Id,
            $"Call {call.Id}: final status never arrived",
            $"MiniVoice call {call.Id} from {call.From ?? "unknown"} to {call.To ?? "unknown"} is still '{call.Status ?? "unknown"}': "
            + $"no final status arrived after its last event ({call.LastEventAt:O}); marked stale at {call.StaleSince:O}.",
            call.Status, call.CustomerId, null, call);
}

/// <summary>
/// Builds an action's request body once, at its first attempt; the ledger stores the bytes and every later
/// attempt sends exactly them (a CRM that compares bodies per Idempotency-Key sees a true repeat).
/// </summary>
internal static class Payloads
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>The body, or an exception for an action whose body cannot be built (the caller fails it alone).</summary>
    public static byte[] Build(string action, string callId, long? eventId, CallRecord? record, DateTimeOffset now)
    {
        if (record is null)
        {
            throw new InvalidOperationException($"call {callId} does not exist");
        }
        var call = CallSummary.Of(record);
        return action switch
        {
            ActionNames.CrmSync => JsonSerializer.SerializeToUtf8Bytes(new CrmSyncPayload(callId, eventId, now, call), Json),
            ActionNames.TicketCreate => JsonSerializer.SerializeToUtf8Bytes(TicketPayload.For(call), Json),
            _ => throw new InvalidOperationException($"unknown action '{action}'"),
        };
    }
}

/// <summary>
/// Idempotency-Keys: <c>crm.sync:{event_id}</c>, <c>ticket.create:{call_id}</c> with the call ID percent-encoded
/// (RFC 3986 unreserved characters stay as they are), and <c>…:replay:{action_id}</c> for an operator's replay.
/// Stable across attempts and always a valid header value, whatever the call ID holds (a line break, non-ASCII).
/// </summary>
internal static class IdempotencyKey
{
    public static string For(string action, string callId, long? eventId, long actionId, bool replay)
    {
        var key = action == ActionNames.TicketCreate ? $"{ActionNames.TicketCreate}:{Uri.EscapeDataString(callId)}" : $"{action}:{eventId}";
        return replay ? $"{key}:replay:{actionId}" : key;
    }
}
