namespace WebhookReceiver.Events;

/// <summary>What a webhook request that did not become a new event came to; queued for <see cref="ReceiptWriter"/>.</summary>
internal readonly record struct Receipt(
    DateTime ReceivedAt, string Result, string? Reason, string? CallId, string? Event, string? WebhookId,
    long BodyBytes, string? RemoteAddress, long? QuarantineId = null, long? EventId = null);

/// <summary>The result names GET /events filters on (and the metrics use).</summary>
internal static class ReceiptResult
{
    public const string Accepted = "accepted";
    public const string Duplicate = "duplicate";
    public const string Invalid = "invalid";
    public const string Unauthorized = "unauthorized";
    public const string TooLarge = "too_large";

    public static readonly IReadOnlyList<string> All = [Accepted, Duplicate, Invalid, Unauthorized, TooLarge];
}
