using System.ComponentModel.DataAnnotations;

namespace WebhookReceiver.Operators;

/// <summary>
/// Who may use the operator surface (/calls, /events, /actions, /destinations, /console, /metrics, the API document
/// and the Hangfire dashboard), and how fast a wrong password may be tried.
/// </summary>
internal sealed class OperatorOptions
{
    public const string SectionName = "Dashboard";

    public string? Username { get; set; }
    public string? Password { get; set; }

    /// <summary>
    /// Outside Development: start without credentials and serve operator endpoints to local requests only. An explicit
    /// choice, because a reverse proxy or sidecar on the same host makes every request look local.
    /// </summary>
    public bool AllowLocalWithoutCredentials { get; set; }

    /// <summary>Failed logins one address may make per window; beyond them it gets 429 and its password is not checked.</summary>
    [Range(1, 100_000)]
    public int FailedLoginLimit { get; set; } = 10;

    [Range(1, 86_400)]
    public int FailedLoginWindowSeconds { get; set; } = 60;

    public bool IsConfigured => !string.IsNullOrEmpty(Username) && !string.IsNullOrEmpty(Password);
}
