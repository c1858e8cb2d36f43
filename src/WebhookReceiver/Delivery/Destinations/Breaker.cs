namespace WebhookReceiver.Delivery;

/// <summary>Breaker states, as stored in delivery_destinations.state and shown by GET /destinations.</summary>
internal static class BreakerState
{
    public const string Closed = "closed";
    public const string Open = "open";
    public const string HalfOpen = "half-open";
}

/// <summary>How the destination answered one batch, in the order the answers came.</summary>
internal sealed record BatchReport(int Ups, int Failures, int TrailingFailures, string? LastError, TimeSpan? Hold)
{
    public static BatchReport Of(IReadOnlyList<ActionOutcome> inCompletionOrder)
    {
        var ups = inCompletionOrder.Count(o => o.ShowsDestinationUp);
        var failures = inCompletionOrder.Count(o => o.CountsAgainstDestination);
        var trailing = 0;
        for (var i = inCompletionOrder.Count - 1; i >= 0 && !inCompletionOrder[i].ShowsDestinationUp; i--)
        {
            trailing += inCompletionOrder[i].CountsAgainstDestination ? 1 : 0;
        }
        var lastError = inCompletionOrder.LastOrDefault(o => o.CountsAgainstDestination)?.Error;
        var hold = inCompletionOrder.Where(o => o.HoldsDestination).Select(o => o.RetryAfter).Max();
        return new(ups, failures, trailing, lastError, hold);
    }
}

/// <summary>The breaker's part of a destination row.</summary>
internal sealed record BreakerRow(string State, int ConsecutiveFailures, int OpenSeconds);

/// <summary>The row after a batch; <see cref="OpenFor"/> is set when the breaker (re)opens now.</summary>
internal sealed record BreakerChange(BreakerRow Row, TimeSpan? OpenFor)
{
    public bool Opened(BreakerRow before) => Row.State == BreakerState.Open && before.State != BreakerState.Open;

    public bool Closed(BreakerRow before) => Row.State == BreakerState.Closed && before.State != BreakerState.Closed;
}

/// <summary>
/// The circuit breaker as a pure function (the gate stores its result under a row lock): FailuresToOpen
/// consecutive retryable failures open it for OpenSeconds; then one probe decides — success closes it, failure
/// reopens it for twice as long (at most 600 s). Any answer that shows the destination up closes it.
/// </summary>
internal static class Breaker
{
    public static BreakerChange After(BreakerRow row, BatchReport report, BreakerOptions options)
    {
        var failures = report.Ups > 0 ? report.TrailingFailures : row.ConsecutiveFailures + report.TrailingFailures;
        var recovered = report.Ups > 0 && report.TrailingFailures == 0;
        switch (row.State)
        {
            case BreakerState.HalfOpen when recovered:
            case BreakerState.Open when recovered:
                return new(new(BreakerState.Closed, 0, 0), null);
            case BreakerState.HalfOpen when report.Failures > 0:
                var doubled = Math.Min(BreakerOptions.MaxOpenSeconds, Math.Max(options.OpenSeconds, row.OpenSeconds * 2));
                return new(new(BreakerState.Open, failures, doubled), TimeSpan.FromSeconds(doubled));
            case BreakerState.Closed when failures >= options.FailuresToOpen:
                return new(new(BreakerState.Open, failures, options.OpenSeconds), TimeSpan.FromSeconds(options.OpenSeconds));
            default:
                return new(row with { ConsecutiveFailures = failures }, null);
        }
    }
}
