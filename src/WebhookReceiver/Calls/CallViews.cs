using System.Text.Json;
using System.Text.Json.Serialization;
using WebhookReceiver.Data;

namespace WebhookReceiver.Calls;

/// <summary>The call record as GET /calls answers it (README "Call records": these names are fixed).</summary>
internal record CallSummary(
    string Id, string? CustomerId, string? ApplicationId, string? Direction,
    [property: JsonPropertyName("from")] string? From, [property: JsonPropertyName("to")] string? To,
    string? Status, bool IsFinal, DateTime? FirstEventAt, DateTime? LastEventAt,
    JsonElement Variables, JsonElement Recordings, JsonElement Transcripts, JsonElement AiResults, JsonElement? Billing,
    DateTime? StaleSince)
{
    /// <summary>No final status arrived Workflows:StaleCallAfterMinutes after the last event (README "Stale calls").</summary>
    public bool Stale => StaleSince is not null;

    public static CallSummary Of(CallRecord c) => new(
        c.Id, c.CustomerId, c.ApplicationId, c.Direction, c.FromNumber, c.ToNumber, c.Status, c.IsFinal,
        c.FirstEventAt, c.LastEventAt, Json(c.Variables), Json(c.Recordings), Json(c.Transcripts), Json(c.AiResults),
        c.Billing is null ? null : Json(c.Billing), c.StaleAt);

    private static JsonElement Json(string json) => JsonElement.Parse(json);
}


/// <summary>One timeline item; Data is the event's data object as MiniVoice sent it (null when the event had none).</summary>
internal sealed record EventView(long Id, string Event, string? Status, DateTime CreatedAt, DateTime ReceivedAt, bool OutOfOrder,
    string? WebhookId, JsonElement? Data);

internal sealed record ActionView(long Id, string Action, string State, int Attempts, string? LastError, string? LastErrorKind,
    int? LastHttpStatus, string? JobId, DateTime UpdatedAt, DateTime? CompletedAt);

internal sealed record CallPage(IReadOnlyList<CallSummary> Items, string? NextCursor);
