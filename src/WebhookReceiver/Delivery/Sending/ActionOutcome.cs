namespace WebhookReceiver.Delivery;

/// <summary>How one attempt of an action ended.</summary>
internal sealed record ActionOutcome(
    bool Succeeded, bool Permanent, int? HttpStatus, string? ErrorKind, string? Error, TimeSpan? RetryAfter)
{
    public static ActionOutcome Success(int status) => new(true, false, status, null, null, null);
    public static ActionOutcome Transient(int? status, string kind, string error, TimeSpan? retryAfter = null) =>
        new(false, false, status, kind, error, retryAfter);
    public static ActionOutcome Fatal(int? status, string kind, string error) => new(false, true, status, kind, error, null);

    /// <summary>Our own side failed (a request we could not build or send): the destination is not to blame.</summary>
    public static ActionOutcome Internal(string error) => Fatal(null, ActionErrorKind.Internal, error);

    /// <summary>A failure that says the destination is unwell: it counts towards opening the breaker.</summary>
    public bool CountsAgainstDestination => !Succeeded && !Permanent;

    /// <summary>The destination answered sensibly (a success, or a 4xx that will not change): it is up.</summary>
    public bool ShowsDestinationUp => Succeeded || (Permanent && HttpStatus is not null);

    /// <summary>429 and 503 with Retry-After hold the whole destination until then, not just this action.</summary>
    public bool HoldsDestination => RetryAfter is not null && HttpStatus is 429 or 503;
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
    /// <summary>The destination's BaseUrl is missing: the action was skipped.</summary>
    public const string NotConfigured = "not_configured";
    /// <summary>Our own side: a request that could not be built or sent, a call record that vanished.</summary>
    public const string Internal = "internal";
    /// <summary>An operator cancelled it.</summary>
    public const string Canceled = "canceled";

    public static readonly IReadOnlyList<string> All = [Http, Timeout, Unreachable, NotConfigured, Internal, Canceled];
}
