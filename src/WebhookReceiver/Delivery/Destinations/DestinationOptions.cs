using System.ComponentModel.DataAnnotations;

namespace WebhookReceiver.Delivery;

/// <summary>
/// A system the work is delivered to (the CRM, the ticket system): where it is, and how hard it may be pushed.
/// The limits hold across every process on the database (README "Destinations"). The token has no default.
/// </summary>
internal abstract class DestinationOptions
{
    public string? BaseUrl { get; set; }
    public string? ApiToken { get; set; }

    [Range(1, 300)]
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>Requests in flight to it at once, across all processes.</summary>
    [Range(1, 1024)]
    public int MaxConcurrency { get; set; } = 8;

    /// <summary>Requests started per second, across all processes; 0 = unlimited.</summary>
    [Range(0, 100_000)]
    public double RatePerSecond { get; set; } = 50;

    [Required]
    public BreakerOptions Breaker { get; set; } = new();

    /// <summary>No BaseUrl: the integration is off and its actions are recorded as skipped.</summary>
    public bool IsConfigured => Uri.TryCreate(BaseUrl, UriKind.Absolute, out _);
}

internal sealed class BreakerOptions
{
    /// <summary>Consecutive retryable failures (timeouts, connection errors, 5xx, 429) that open the breaker.</summary>
    [Range(1, 10_000)]
    public int FailuresToOpen { get; set; } = 5;

    /// <summary>How long an open breaker sends nothing before one probe decides; doubles while the probes fail.</summary>
    [Range(1, 600)]
    public int OpenSeconds { get; set; } = 30;

    public const int MaxOpenSeconds = 600;
}

internal sealed class CrmOptions : DestinationOptions
{
    public const string SectionName = "Crm";
}

internal sealed class TicketOptions : DestinationOptions
{
    public const string SectionName = "Tickets";
}
