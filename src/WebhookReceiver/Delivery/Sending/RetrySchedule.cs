using Microsoft.Extensions.Options;
using WebhookReceiver.Data;
using WebhookReceiver.Jobs;

namespace WebhookReceiver.Delivery;

/// <summary>What an attempt's outcome does to its action: the state it leaves, and when a retry is due.</summary>
internal sealed record Settlement(string State, TimeSpan? RetryIn, bool Exhausted);

/// <summary>
/// Exponential backoff over Jobs:RetryDelaysSeconds with ±20 % jitter (a recovering CRM is not hit by every
/// retry at once), never sooner than the remote's Retry-After; permanent failures and used-up budgets end failed.
/// </summary>
internal sealed class RetrySchedule(IOptionsMonitor<JobsOptions> options)
{
    /// <param name="attempts">Attempts including this one.</param>
    /// <param name="retryFrom">Attempts made before the current budget began (an operator's retry resets it).</param>
    public Settlement After(ActionOutcome outcome, int attempts, int retryFrom)
    {
        if (outcome.Succeeded)
        {
            return new(ActionState.Succeeded, null, false);
        }
        if (outcome.Permanent)
        {
            return new(ActionState.Failed, null, false);
        }
        var delays = options.CurrentValue.EffectiveRetryDelaysSeconds;
        var retriesUsed = Math.Max(0, attempts - retryFrom - 1);
        if (retriesUsed >= delays.Length)
        {
            return new(ActionState.Failed, null, true);
        }
        var delay = TimeSpan.FromSeconds(delays[retriesUsed]) * (0.8 + (0.4 * Random.Shared.NextDouble()));
        if (outcome.RetryAfter is { } retryAfter && retryAfter > delay)
        {
            delay = retryAfter;
        }
        return new(ActionState.Pending, delay, false);
    }
}
