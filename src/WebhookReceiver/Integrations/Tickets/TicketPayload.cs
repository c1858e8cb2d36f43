using WebhookReceiver.Calls;

namespace WebhookReceiver.Integrations.Tickets;

/// <summary>POST {Tickets:BaseUrl}/tickets — one support ticket per call that ended in a destination failure.</summary>
internal sealed record TicketPayload(
    string CallId, string Subject, string Description, string? Status, string? CustomerId, DateTime? EndedAt, CallSummary Call)
{
    public static TicketPayload For(CallSummary call) => new(
        call.Id,
        $"Call {call.Id} ended: {call.Status}",
        $"MiniVoice call {call.Id} from {call.From ?? "unknown"} to {call.To ?? "unknown"} ended with status '{call.Status}'.",
        call.Status, call.CustomerId, call.LastEventAt, call);
}
