using WebhookReceiver.Calls;

namespace WebhookReceiver.Webhooks;

internal sealed class WorkflowOptions
{
    public const string SectionName = "Workflows";

    /// <summary>Statuses (besides failed, busy, no-answer) after which a support ticket is opened.</summary>
    public string[] TicketStatuses { get; set; } = [];

    private static readonly string[] DestinationFailures = ["failed", "busy", "no-answer"];

    public string[] CanonicalTicketStatuses() =>
        DestinationFailures.Concat(TicketStatuses.Where(s => !string.IsNullOrWhiteSpace(s)).Select(CallStatus.Canonical))
            .Distinct().ToArray();
}

/// <summary>The statuses that open a ticket, in canonical form, computed once for the hot path.</summary>
internal sealed record TicketStatuses(string[] Canonical);
