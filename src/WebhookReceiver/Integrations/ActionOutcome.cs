namespace WebhookReceiver.Integrations;

/// <summary>How a remote system answered one attempt of an action.</summary>
internal sealed record ActionOutcome(bool Succeeded, bool Permanent, int? HttpStatus, string? ErrorKind, string? Error, TimeSpan? RetryAfter)
{
    public static ActionOutcome Success(int status) => new(true, false, status, null, null, null);
    public static ActionOutcome Transient(int? status, string kind, string error, TimeSpan? retryAfter = null) => new(false, false, status, kind, error, retryAfter);
    public static ActionOutcome Fatal(int? status, string kind, string error) => new(false, true, status, kind, error, null);
}

/// <summary>
/// What kind of failure an attempt met, stored as call_actions.last_error_kind so failures can be grouped
/// and retried by kind (the free-text last_error differs per call).
/// </summary>
internal static class ActionErrorKind
{
    /// <summary>The remote answered with a non-2xx status (see last_http_status).</summary>
    public const string Http = "http";
    public const string Timeout = "timeout";
    /// <summary>Connection refused, DNS, TLS: no HTTP answer at all.</summary>
    public const string Unreachable = "unreachable";
    /// <summary>The integration's BaseUrl is missing: fixed by configuration, not by retrying.</summary>
    public const string NotConfigured = "not_configured";
    /// <summary>Our own side: an unknown action, a call record that vanished.</summary>
    public const string Internal = "internal";
    /// <summary>An operator cancelled its scheduled retries.</summary>
    public const string Canceled = "canceled";

    public static readonly IReadOnlyList<string> All = [Http, Timeout, Unreachable, NotConfigured, Internal, Canceled];
}

/// <summary>Thrown so that Hangfire schedules a retry (see Jobs/RetryPolicyFilter).</summary>
internal sealed class TransientActionException(string message, TimeSpan? retryAfter) : Exception(message)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>Thrown so that Hangfire marks the job failed at once, without retrying (a 4xx that will not change).</summary>
internal sealed class PermanentActionException(string message) : Exception(message);
