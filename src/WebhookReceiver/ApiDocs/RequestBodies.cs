using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace WebhookReceiver.ApiDocs;

// Endpoints that read their bodies themselves (byte-exact for signatures, lenient for error messages) declare
// these shapes for the document only; the validators stay the authority.

[Description("A MiniVoice webhook event (README \"Receiving webhooks\"). Unknown properties are accepted and kept.")]
internal sealed record MiniVoiceEventBody(
    [property: Description("Event type, e.g. call.completed: ^[a-z][a-z0-9_.]*$, at most 64 characters")] string Event,
    [property: Description("RFC 3339 time with an offset")] DateTimeOffset CreatedAt,
    MiniVoiceCallBody Call,
    [property: Description("Names to string-or-null values; null removes a variable")] Dictionary<string, string?>? Variables,
    [property: Description("recording(s), transcript(s), ai_result(s), billing…")] JsonElement? Data);

internal sealed record MiniVoiceCallBody(
    [property: Description("MiniVoice call ID, at most 128 characters")] string Id,
    string? CustomerId, string? ApplicationId,
    [property: Description("inbound or outbound")] string? Direction,
    [property: JsonPropertyName("from"), Description("E.164-like")] string? From,
    [property: JsonPropertyName("to"), Description("E.164-like")] string? To,
    [property: Description("e.g. ringing, in-progress, completed, failed, busy, no-answer, canceled")] string? Status);

[Description("A call to place through MiniVoice")]
internal sealed record CreateCallRequestBody(
    [property: JsonPropertyName("from"), Description("E.164-like caller number")] string From,
    [property: JsonPropertyName("to"), Description("E.164-like number to call")] string To,
    [property: Description("Record the call (default false)")] bool? Record);
