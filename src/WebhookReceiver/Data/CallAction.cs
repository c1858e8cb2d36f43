namespace WebhookReceiver.Data;

/// <summary>
/// One unit of background work (crm.sync, ticket.create): written by the ingest statement in the same
/// transaction as its event (the outbox), then claimed by the dispatcher and run by a Hangfire job. Its
/// <see cref="State"/> is the ledger: once 'succeeded' no job sends it again.
/// </summary>
internal sealed class CallAction
{
    public long Id { get; set; }
    public required string CallId { get; set; }
    public long? EventId { get; set; }
    public required string Action { get; set; }
    /// <summary>pending | succeeded | failed.</summary>
    public required string State { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }
    /// <summary>One of Integrations.ActionErrorKind; null while no attempt failed.</summary>
    public string? LastErrorKind { get; set; }
    public int? LastHttpStatus { get; set; }
    /// <summary>When the dispatcher handed it to Hangfire; null = not yet (or to be handed again).</summary>
    public DateTime? DispatchedAt { get; set; }
    public string? JobId { get; set; }
    public DateTime? FirstAttemptAt { get; set; }
    public DateTime? LastAttemptAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public DateTime? CompletedAt { get; set; }
    /// <summary>
    /// Set on an action an operator replayed on purpose: the action it repeats. Replays sit outside the
    /// once-per-(event, action) and once-per-call-ticket rules and send their own Idempotency-Key.
    /// </summary>
    public long? ReplayOf { get; set; }
    /// <summary>The operator who replayed or last retried/cancelled it by hand (audit).</summary>
    public string? RequestedBy { get; set; }
}
