using Microsoft.Extensions.Options;
using WebhookReceiver.Data;
using WebhookReceiver.Delivery;
using WebhookReceiver.Jobs;

namespace WebhookReceiver.Tests.Delivery;

/// <summary>
/// What an attempt's outcome does to its action: backoff over Jobs:RetryDelaysSeconds with ±20 % jitter, never sooner
/// than Retry-After; the list's length is the number of retries; an operator's retry starts a fresh budget.
/// </summary>
public sealed class RetryScheduleTests
{
    private static readonly ActionOutcome Down = ActionOutcome.Transient(503, ActionErrorKind.Http, "HTTP 503");

    private static RetrySchedule Schedule(params int[] delays) => new(new FixedOptions(new JobsOptions { RetryDelaysSeconds = delays }));

    [Fact]
    public void Success_succeeds_and_a_permanent_failure_fails_at_once_without_counting_as_exhausted()
    {
        var schedule = Schedule(10, 20);

        Assert.Equal(new Settlement(ActionState.Succeeded, null, false), schedule.After(ActionOutcome.Success(201), 1, 0));
        Assert.Equal(new Settlement(ActionState.Failed, null, false),
            schedule.After(ActionOutcome.Fatal(422, ActionErrorKind.Http, "HTTP 422"), 1, 0));
        Assert.Equal(new Settlement(ActionState.Failed, null, false), schedule.After(ActionOutcome.Internal("bad header"), 1, 0));
    }

    [Fact]
    public void Each_retry_waits_its_delay_give_or_take_20_percent_and_the_list_length_is_the_number_of_retries()
    {
        var schedule = Schedule(10, 20, 40);

        foreach (var (attempts, delay) in new[] { (1, 10), (2, 20), (3, 40) })
        {
            var retryIns = Enumerable.Range(0, 200).Select(_ => schedule.After(Down, attempts, 0)).ToList();
            Assert.All(retryIns, s => Assert.Equal(ActionState.Pending, s.State));
            Assert.All(retryIns, s => Assert.InRange(s.RetryIn!.Value.TotalSeconds, delay * 0.8, delay * 1.2));
            Assert.True(retryIns.Select(s => s.RetryIn).Distinct().Count() > 1, "jittered");
        }
        Assert.Equal(new Settlement(ActionState.Failed, null, true), schedule.After(Down, 4, 0));
    }

    [Fact]
    public void An_operators_retry_starts_a_fresh_budget()
    {
        var schedule = Schedule(10, 20);

        Assert.True(schedule.After(Down, 3, 0).Exhausted);
        var fresh = schedule.After(Down, 4, 3);
        Assert.Equal(ActionState.Pending, fresh.State);
        Assert.InRange(fresh.RetryIn!.Value.TotalSeconds, 8, 12);
        Assert.True(schedule.After(Down, 6, 3).Exhausted);
    }

    [Fact]
    public void Retry_After_is_honoured_when_it_is_later_than_the_backoff()
    {
        var schedule = Schedule(10);

        var later = schedule.After(ActionOutcome.Transient(429, ActionErrorKind.Http, "HTTP 429", TimeSpan.FromSeconds(90)), 1, 0);
        Assert.Equal(TimeSpan.FromSeconds(90), later.RetryIn);
        var sooner = schedule.After(ActionOutcome.Transient(429, ActionErrorKind.Http, "HTTP 429", TimeSpan.FromSeconds(1)), 1, 0);
        Assert.InRange(sooner.RetryIn!.Value.TotalSeconds, 8, 12);
        // Retry-After does not extend the budget.
        Assert.True(
            schedule.After(ActionOutcome.Transient(429, ActionErrorKind.Http, "HTTP 429", TimeSpan.FromSeconds(90)), 2, 0).Exhausted);
    }

    [Fact]
    public void No_configured_delays_means_the_production_default_of_eight_retries()
    {
        var schedule = Schedule();

        Assert.InRange(schedule.After(Down, 1, 0).RetryIn!.Value.TotalSeconds, 48, 72);
        Assert.Equal(ActionState.Pending, schedule.After(Down, 8, 0).State);
        Assert.True(schedule.After(Down, 9, 0).Exhausted);
    }

    [Fact]
    public void A_changed_setting_applies_to_the_next_settlement()
    {
        var options = new FixedOptions(new JobsOptions { RetryDelaysSeconds = [10] });
        var schedule = new RetrySchedule(options);
        Assert.True(schedule.After(Down, 2, 0).Exhausted);

        options.CurrentValue = new JobsOptions { RetryDelaysSeconds = [10, 10] };

        Assert.False(schedule.After(Down, 2, 0).Exhausted);
    }

    private sealed class FixedOptions(JobsOptions value) : IOptionsMonitor<JobsOptions>
    {
        public JobsOptions CurrentValue { get; set; } = value;

        public JobsOptions Get(string? name) => CurrentValue;

        public IDisposable? OnChange(Action<JobsOptions, string?> listener) => null;
    }
}
