namespace WebhookReceiver.Operators;

/// <summary>Credentials for the operator surface: /calls, /events, /console and the Hangfire dashboard.</summary>
internal sealed class DashboardCredentials
{
    public const string SectionName = "Dashboard";
    public string? Username { get; set; }
    public string? Password { get; set; }
    public bool IsConfigured => !string.IsNullOrEmpty(Username) && !string.IsNullOrEmpty(Password);
}
