namespace WebhookReceiver.Data;

/// <summary>An authenticated request whose body was refused, kept so an operator can inspect and replay it.</summary>
internal sealed class QuarantinedWebhook
{
    public long Id { get; set; }
    public DateTime ReceivedAt { get; set; }
    public required string Reason { get; set; }
    /// <summary>jsonb: field name → messages, as answered to the sender.</summary>
    public required string Errors { get; set; }
    public required byte[] RawBody { get; set; }
    public int BodyLength { get; set; }
    public bool Truncated { get; set; }
    /// <summary>jsonb: the headers that matter for a replay (never credentials or signatures).</summary>
    public required string Headers { get; set; }
    public string? RemoteAddress { get; set; }
    /// <summary>When an operator re-ingested it and it passed validation; the event it became.</summary>
    public DateTime? ReingestedAt { get; set; }
    public long? ReingestedEventId { get; set; }
    public string? ReingestedBy { get; set; }
}
