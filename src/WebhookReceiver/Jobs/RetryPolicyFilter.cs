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
    private const string RetryCountParameter = "RetryCount";

    public void OnStateElection(ElectStateContext context)
    {
        if (context.CandidateState is not FailedState failed)
        {
            return;
        }
        var permanent = failed.Exception is PermanentActionException;
        var retries = context.GetJobParameter<int>(RetryCountParameter);
        var delays = options.CurrentValue.EffectiveRetryDelaysSeconds;
        if (!permanent && retries < delays.Length)
        {
            var delay = Jitter(TimeSpan.FromSeconds(delays[retries]));
            if (failed.Exception is TransientActionException { RetryAfter: { } retryAfter } && retryAfter > delay)
            {
                // Hangfire keeps schedule times in whole seconds and may fire up to a second early:
                // one second more makes sure the remote's Retry-After is never undercut.
                delay = retryAfter + TimeSpan.FromSeconds(1);
            }
            context.SetJobParameter(RetryCountParameter, retries + 1);
            context.CandidateState = new ScheduledState(delay)
            {
                Reason = $"Retry {retries + 1} of {delays.Length} in {delay.TotalSeconds:0.#} s: {failed.Exception.Message}",
            };
            return;
        }
        if (context.BackgroundJob.Job?.Type == typeof(CallActionJob) && context.BackgroundJob.Job.Args[0] is long actionId)
        {
            ActionLedger.MarkExhausted(dataSource, actionId);
            logger.LogWarning("Job {JobId} failed for good after {Retries} retries: {Error}", context.BackgroundJob.Id, retries, failed.Exception.Message);
        }
    }

    private static TimeSpan Jitter(TimeSpan delay) => delay * (0.8 + (0.4 * Random.Shared.NextDouble()));
}
