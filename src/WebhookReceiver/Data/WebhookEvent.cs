namespace WebhookReceiver.Data;

internal sealed class WebhookEvent
{
    public long Id { get; set; }
    /// <summary>Deduplication key: "id:" + webhook-id header, else "evt:" + call id, event and created_at.</summary>
    public required string Identity { get; set; }
    public string? WebhookId { get; set; }
    public required string CallId { get; set; }
    public required string Event { get; set; }
    public string? Status { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ReceivedAt { get; set; }
    public bool OutOfOrder { get; set; }
    /// <summary>The request body byte for byte, as MiniVoice signed it.</summary>
    public required byte[] RawBody { get; set; }
    /// <summary>jsonb copy of the body for search (normalised by PostgreSQL).</summary>
    public required string Body { get; set; }
    /// <summary>jsonb: the request headers kept for an investigation (Webhooks/KeptHeaders), null when not kept.</summary>
    public string? RequestHeaders { get; set; }
}
