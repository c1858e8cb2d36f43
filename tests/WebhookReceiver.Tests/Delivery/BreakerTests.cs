using WebhookReceiver.Delivery;

namespace WebhookReceiver.Tests.Delivery;

/// <summary>
/// The circuit breaker as the pure function the gate applies under its row lock: what one batch's answers (in the order
/// they came) do to the destination's row.
/// </summary>
public sealed class BreakerTests
{
    private static readonly BreakerOptions Options = new() { FailuresToOpen = 5, OpenSeconds = 30 };

    private static readonly ActionOutcome Ok = ActionOutcome.Success(200);
    private static readonly ActionOutcome Down = ActionOutcome.Transient(503, ActionErrorKind.Http, "HTTP 503");
    private static readonly ActionOutcome Timeout = ActionOutcome.Transient(null, ActionErrorKind.Timeout, "no answer");
    private static readonly ActionOutcome Rejected = ActionOutcome.Fatal(400, ActionErrorKind.Http, "HTTP 400");
    private static readonly ActionOutcome OurBug = ActionOutcome.Internal("body could not be built");

    private static BreakerRow Closed(int failures = 0) => new(BreakerState.Closed, failures, 0);

    private static BreakerChange After(BreakerRow row, params ActionOutcome[] outcomes) =>
        Breaker.After(row, BatchReport.Of(outcomes), Options);

    [Fact]
    public void The_fifth_retryable_failure_in_a_row_opens_it_for_OpenSeconds()
    {
        var change = After(Closed(3), Down, Timeout);

        Assert.Equal(new BreakerRow(BreakerState.Open, 5, 30), change.Row);
        Assert.Equal(TimeSpan.FromSeconds(30), change.OpenFor);
        Assert.True(change.Opened(Closed(3)));
    }

    [Fact]
    public void Fewer_failures_in_a_row_only_count()
    {
        var change = After(Closed(2), Down, Down);

        Assert.Equal(Closed(4), change.Row);
        Assert.Null(change.OpenFor);
        Assert.False(change.Opened(Closed(2)));
    }

    [Fact]
    public void A_success_resets_the_count_and_only_failures_after_the_last_success_count()
    {
        Assert.Equal(Closed(0), After(Closed(4), Down, Ok).Row);
        Assert.Equal(Closed(2), After(Closed(4), Down, Down, Ok, Down, Down).Row);
    }

    [Fact]
    public void A_permanent_4xx_shows_the_destination_is_up_but_our_own_failure_says_nothing_about_it()
    {
        Assert.Equal(Closed(0), After(Closed(4), Rejected).Row);
        Assert.Equal(Closed(4), After(Closed(4), OurBug).Row);
        // Our own failure neither breaks nor extends a run of the destination's failures.
        var change = After(Closed(3), Down, OurBug, Down);
        Assert.Equal(BreakerState.Open, change.Row.State);
        Assert.Equal(5, change.Row.ConsecutiveFailures);
    }

    [Fact]
    public void A_failed_probe_opens_it_again_for_twice_as_long_at_most_600_seconds()
    {
        var first = After(new BreakerRow(BreakerState.HalfOpen, 5, 30), Down);
        Assert.Equal(new BreakerRow(BreakerState.Open, 6, 60), first.Row);
        Assert.Equal(TimeSpan.FromSeconds(60), first.OpenFor);
        Assert.True(first.Opened(new BreakerRow(BreakerState.HalfOpen, 5, 30)));

        var capped = After(new BreakerRow(BreakerState.HalfOpen, 9, 400), Down);
        Assert.Equal(600, capped.Row.OpenSeconds);
        Assert.Equal(TimeSpan.FromSeconds(600), capped.OpenFor);

        Assert.Equal(30, After(new BreakerRow(BreakerState.HalfOpen, 5, 0), Down).Row.OpenSeconds);
    }

    [Fact]
    public void A_successful_probe_closes_it()
    {
        var before = new BreakerRow(BreakerState.HalfOpen, 7, 120);
        var change = After(before, Ok);

        Assert.Equal(Closed(0), change.Row);
        Assert.Null(change.OpenFor);
        Assert.True(change.Closed(before));
        Assert.False(change.Opened(before));
    }

    [Fact]
    public void A_late_batch_that_failed_while_it_was_open_neither_extends_nor_reopens_it()
    {
        var before = new BreakerRow(BreakerState.Open, 5, 30);
        var change = After(before, Down, Down);

        Assert.Equal(new BreakerRow(BreakerState.Open, 7, 30), change.Row);
        Assert.Null(change.OpenFor);
        Assert.False(change.Opened(before));
    }

    [Fact]
    public void A_late_batch_that_succeeded_while_it_was_open_closes_it()
    {
        var before = new BreakerRow(BreakerState.Open, 5, 30);

        Assert.Equal(Closed(0), After(before, Down, Ok).Row);
        Assert.True(After(before, Ok).Closed(before));
    }

    [Fact]
    public void A_batch_report_counts_ups_failures_the_trailing_run_and_the_last_error_in_answer_order()
    {
        var report = BatchReport.Of([Down, Ok, Rejected, Timeout, OurBug, Down]);

        Assert.Equal(2, report.Ups);
        Assert.Equal(3, report.Failures);
        Assert.Equal(2, report.TrailingFailures);
        Assert.Equal("HTTP 503", report.LastError);
        Assert.Null(report.Hold);
        Assert.Equal(new BatchReport(0, 0, 0, null, null), BatchReport.Of([]));
    }

    [Fact]
    public void Only_429_and_503_with_Retry_After_hold_the_destination_and_the_longest_wins()
    {
        var report = BatchReport.Of(
        [
            ActionOutcome.Transient(429, ActionErrorKind.Http, "HTTP 429", TimeSpan.FromSeconds(3)),
            ActionOutcome.Transient(503, ActionErrorKind.Http, "HTTP 503", TimeSpan.FromSeconds(7)),
            ActionOutcome.Transient(500, ActionErrorKind.Http, "HTTP 500", TimeSpan.FromSeconds(60)),
        ]);

        Assert.Equal(TimeSpan.FromSeconds(7), report.Hold);
        Assert.Null(BatchReport.Of([ActionOutcome.Transient(502, ActionErrorKind.Http, "HTTP 502", TimeSpan.FromSeconds(60))]).Hold);
        Assert.Null(BatchReport.Of([ActionOutcome.Transient(429, ActionErrorKind.Http, "HTTP 429")]).Hold);
    }
}
