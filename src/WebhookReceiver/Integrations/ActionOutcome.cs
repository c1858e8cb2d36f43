namespace WebhookReceiver.Integrations;

/// <summary>How a remote system answered one attempt of an action.</summary>
internal sealed record ActionOutcome(bool Succeeded, bool Permanent, int? HttpStatus, string? Error, TimeSpan? RetryAfter)
{
    public static ActionOutcome Success(int status) => new(true, false, status, null, null);
    public static ActionOutcome Transient(int? status, string error, TimeSpan? retryAfter = null) => new(false, false, status, error, retryAfter);
    public static ActionOutcome Fatal(int? status, string error) => new(false, true, status, error, null);
}

/// <summary>Thrown so that Hangfire schedules a retry (see Jobs/RetryPolicyFilter).</summary>
internal sealed class TransientActionException(string message, TimeSpan? retryAfter) : Exception(message)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>Thrown so that Hangfire marks the job failed at once, without retrying (a 4xx that will not change).</summary>
internal sealed class PermanentActionException(string message) : Exception(message);
