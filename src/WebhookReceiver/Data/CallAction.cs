namespace WebhookReceiver.Data;

/// <summary>One unit of background work (crm.sync, ticket.create) and its outcome: the outbox and the ledger.</summary>
internal sealed class CallAction
{
    public long Id { get; set; }
    public required string CallId { get; set; }
    public long? EventId { get; set; }
    public required string Action { get; set; }
    public required string State { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public DateTime? CompletedAt { get; set; }
}
