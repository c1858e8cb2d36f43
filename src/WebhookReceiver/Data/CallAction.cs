namespace WebhookReceiver.Data;

/// <summary>
/// One unit of background work (crm.sync, ticket.create), and the one source of truth about it: its state,
/// attempts, last error, next attempt time and current owner (lease) all live in this row. Written by the ingest
/// statement in the event's own transaction (the outbox); claimed, sent and settled by Delivery/.
/// </summary>
internal sealed class CallAction
{
    public long Id { get; set; }
    public required string CallId { get; set; }
    public long? EventId { get; set; }
    public required string Action { get; set; }
    /// <summary>One of <see cref="ActionState"/>.</summary>
    public required string State { get; set; }
    public int Attempts { get; set; }
    /// <summary>
    /// Attempts made before the current retry budget began (an operator's retry starts a fresh one): the retries
    /// used so far are <c>attempts - retry_from - 1</c>.
    /// </summary>
    public int RetryFrom { get; set; }
    public string? LastError { get; set; }
    /// <summary>One of Delivery.ActionErrorKind; null while no attempt failed.</summary>
    public string? LastErrorKind { get; set; }
    public int? LastHttpStatus { get; set; }
    /// <summary>A pending action is due from this time on (first attempt: its creation; a retry: after its backoff).</summary>
    public DateTime NextAttemptAt { get; set; }
    /// <summary>The batch that owns the action while <see cref="LeaseUntil"/> is in the future; nobody owns it after.</summary>
    public Guid? LeaseOwner { get; set; }
    public DateTime? LeaseUntil { get; set; }
    /// <summary>The request body, fixed at the first attempt: every attempt under one Idempotency-Key sends the same bytes.</summary>
    public byte[]? Payload { get; set; }
    /// <summary>The Hangfire job that attempted it last (its dashboard page lists the batch's outcomes).</summary>
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
    /// <summary>
    /// The W3C traceparent of the webhook request that created the action, when that request was traced (README
    /// "Observability"): the job's send continues its trace. Null when tracing was off or the request unsampled.
    /// </summary>
    public string? TraceParent { get; set; }
}

/// <summary>The states of a <see cref="CallAction"/> (README "Background work"), as stored.</summary>
internal static class ActionState
{
    /// <summary>Waiting for its first attempt or a retry, or being attempted (then it has a live lease).</summary>
    public const string Pending = "pending";
    public const string Succeeded = "succeeded";
    /// <summary>Failed for good (permanent answer, retries used up, cancelled): retryable by an operator.</summary>
    public const string Failed = "failed";
    /// <summary>Its destination is not configured: nothing was sent; the bulk retry sends it once configured.</summary>
    public const string Skipped = "skipped";

    /// <summary>
    /// "Failing": failed for good, or waiting for a retry after a failed attempt. GET /actions/failures reads it and
    /// the partial index ix_call_actions_failing is built on it (one text for both).
    /// </summary>
    public const string FailingFilter = "state = 'failed' OR (state = 'pending' AND attempts > 0 AND last_error IS NOT NULL)";

    /// <summary>
    /// Nobody owns the row: no lease, or its lease ran out (the job was deleted, its process killed or stopped).
    /// The claim treats both alike, which is what keeps any pending action from being stranded.
    /// </summary>
    public const string Unowned = "(lease_until IS NULL OR lease_until < now())";
}
