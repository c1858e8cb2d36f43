namespace WebhookReceiver.Events;

/// <summary>
/// GET /events/counts: requests per result, and the arrival window they were counted in. <c>SinceDefaulted</c> says
/// the caller gave no <c>since</c> and the service counted <see cref="EventSearchQuery.DefaultCountWindow"/> only.
/// </summary>
internal sealed record EventCounts(
    long Accepted, long Duplicate, long Invalid, long Unauthorized, long TooLarge, DateTime Since, DateTime? Until, bool SinceDefaulted)
{
    public static EventCounts Of(IReadOnlyDictionary<string, long> counts, EventSearchQuery window, bool sinceDefaulted) => new(
        counts[ReceiptResult.Accepted], counts[ReceiptResult.Duplicate], counts[ReceiptResult.Invalid],
        counts[ReceiptResult.Unauthorized], counts[ReceiptResult.TooLarge], window.Since!.Value, window.Until, sinceDefaulted);
}
