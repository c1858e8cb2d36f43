namespace WebhookReceiver.Data;

/// <summary>One row per MiniVoice call ID. Written by the ingest function (Data/Sql), read by the Calls API.</summary>
internal sealed class CallRecord
{
    public required string Id { get; set; }
    public string? CustomerId { get; set; }
    public string? ApplicationId { get; set; }
    public string? Direction { get; set; }
    public string? FromNumber { get; set; }
    public string? ToNumber { get; set; }
    public string? Status { get; set; }
    public bool IsFinal { get; set; }
    /// <summary>created_at of the event whose status won; decides between two finals or two non-finals.</summary>
    public DateTime? StatusAt { get; set; }
    // Per field, the created_at of the event whose value it holds: each field is won separately by the newest
    // event that carries it (README "Call records"). Null before any event carried it (a row from POST /calls).
    public DateTime? CustomerIdAt { get; set; }
    public DateTime? ApplicationIdAt { get; set; }
    public DateTime? DirectionAt { get; set; }
    public DateTime? FromNumberAt { get; set; }
    public DateTime? ToNumberAt { get; set; }
    public DateTime? FirstEventAt { get; set; }
    public DateTime? LastEventAt { get; set; }
    /// <summary>last_event_at, or the row's creation time before any event: the list's sort key, never null.</summary>
    public DateTime ActivityAt { get; set; }
    public string Variables { get; set; } = "{}";
    /// <summary>Per variable name, the created_at of the event that last set or removed it (removals are kept as tombstones).</summary>
    public string VariableTimes { get; set; } = "{}";
    public string Recordings { get; set; } = "[]";
    public string Transcripts { get; set; } = "[]";
    public string AiResults { get; set; } = "[]";
    public string? Billing { get; set; }
    public DateTime? BillingAt { get; set; }
    public DateTime CreatedAt { get; set; }
    /// <summary>
    /// When an event (or POST /calls) last wrote the row, by our clock: the stale sweep reads it (arrival time, immune to
    /// MiniVoice's clock) and never writes it.
    /// </summary>
    public DateTime UpdatedAt { get; set; }
    /// <summary>
    /// When the stale sweep found the call still not final Workflows:StaleCallAfterMinutes after its last event; any
    /// later event clears it (README "Stale calls").
    /// </summary>
    public DateTime? StaleAt { get; set; }
}
