namespace WebhookReceiver.Data;

/// <summary>
/// A webhook request that was not stored as a new event (duplicate, invalid, unauthorized, too large), so it can be
/// counted and found. Written in batches off the response path (Events/ReceiptWriter); never holds a body: those that
/// failed authentication are a stranger's bytes, and invalid ones are in quarantined_webhooks already.
/// </summary>
internal sealed class WebhookReceipt
{
    public long Id { get; set; }
    public DateTime ReceivedAt { get; set; }
    /// <summary>duplicate | invalid | unauthorized | too_large.</summary>
    public required string Result { get; set; }
    /// <summary>Why, in a word: the authentication failure, the quarantine reason, unsupported_media_type…</summary>
    public string? Reason { get; set; }
    public string? CallId { get; set; }
    public string? Event { get; set; }
    public string? WebhookId { get; set; }
    /// <summary>Bytes read (or declared, for a body refused by its Content-Length).</summary>
    public long BodyBytes { get; set; }
    public string? RemoteAddress { get; set; }
    public long? QuarantineId { get; set; }
    /// <summary>For a duplicate, the event it repeated.</summary>
    public long? EventId { get; set; }
}
