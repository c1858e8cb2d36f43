using System.ComponentModel.DataAnnotations;

namespace WebhookReceiver.Integrations;

/// <summary>An HTTP system the jobs talk to (the CRM, the ticket system). The token has no default.</summary>
internal abstract class IntegrationOptions
{
    public string? BaseUrl { get; set; }
    public string? ApiToken { get; set; }

    [Range(1, 300)]
    public int TimeoutSeconds { get; set; } = 10;

    public bool IsConfigured => Uri.TryCreate(BaseUrl, UriKind.Absolute, out _);
}

internal sealed class CrmOptions : IntegrationOptions
{
    public const string SectionName = "Crm";
}

internal sealed class TicketOptions : IntegrationOptions
{
    public const string SectionName = "Tickets";
}
