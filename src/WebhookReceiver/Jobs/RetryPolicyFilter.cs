using Hangfire.Common;
using Hangfire.States;
using Microsoft.Extensions.Options;
using Npgsql;
using WebhookReceiver.Integrations;

namespace WebhookReceiver.Jobs;

/// <summary>
/// Replaces Hangfire's AutomaticRetry for this host: delays from Jobs:RetryDelaysSeconds with ±20 % jitter
/// (so a recovering CRM is not hit by every retry at once), at least the remote's Retry-After, no retry for
/// permanent failures; when retries run out the job stays Failed (retryable from the dashboard) and its
/// action is marked failed.
/// </summary>
internal sealed class RetryPolicyFilter(IOptionsMonitor<JobsOptions> options, NpgsqlDataSource dataSource, ILogger<RetryPolicyFilter> logger)
    : JobFilterAttribute, IElectStateFilter
{
    public const string RetryCountParameter = "RetryCount";

    public void OnStateElection(ElectStateContext context)
    {
        if (context.CandidateState is not FailedState failed)
        {
            return;
        }
        var retries = context.GetJobParameter<int>(RetryCountParameter);
        if (RetryState(failed.Exception, retries) is { } retry)
        {
            context.SetJobParameter(RetryCountParameter, retries + 1);
            context.CandidateState = retry;
            return;
        }
        var job = context.BackgroundJob.Job;
        long[]? exhausted = job?.Type == typeof(CallActionJob) && job.Args[0] is long actionId ? [actionId]
            : job?.Type == typeof(CallActionBatchJob) && job.Args[0] is long[] actionIds ? actionIds
            : null;
        if (exhausted is not null)
        {
            ActionLedger.MarkExhausted(dataSource, exhausted, context.BackgroundJob.Id);
            logger.LogWarning("Job {JobId} failed for good after {Retries} retries: {Error}", context.BackgroundJob.Id, retries, failed.Exception.Message);
        }
    }

    /// <summary>
    /// The scheduled state of retry number <paramref name="retriesSoFar"/> + 1 after <paramref name="exception"/>,
    /// or null when the failure is permanent or the retries are used up.
    /// </summary>
    public ScheduledState? RetryState(Exception exception, int retriesSoFar)
    {
        var delays = options.CurrentValue.EffectiveRetryDelaysSeconds;
        if (exception is PermanentActionException || retriesSoFar >= delays.Length)
        {
            return null;
        }
        var delay = Jitter(TimeSpan.FromSeconds(delays[retriesSoFar]));
        if (exception is TransientActionException { RetryAfter: { } retryAfter } && retryAfter > delay)
        {
            // Hangfire keeps schedule times in whole seconds and may fire up to a second early:
            // one second more makes sure the remote's Retry-After is never undercut.
            delay = retryAfter + TimeSpan.FromSeconds(1);
        }
        return new ScheduledState(delay)
        {
            Reason = $"Retry {retriesSoFar + 1} of {delays.Length} in {delay.TotalSeconds:0.#} s: {exception.Message}",
        };
    }

    private static TimeSpan Jitter(TimeSpan delay) => delay * (0.8 + (0.4 * Random.Shared.NextDouble()));
}
