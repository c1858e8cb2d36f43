using Microsoft.Extensions.Options;

namespace WebhookReceiver.Delivery;

/// <summary>
/// One destination as the delivery code sees it: its name (the row in delivery_destinations), the action it runs, where it posts.
/// </summary>
internal sealed record Destination(string Name, string Action, string Path, DestinationOptions Options)
{
    /// <summary>
    /// A full token bucket holds 50 ms of the rate (at least one request): every 1-second window then starts at most
    /// RatePerSecond × 1.05 requests (50/s → 52), while a wave of sends still goes out together.
    /// </summary>
    public double BucketSize => Math.Max(1, Options.RatePerSecond * 0.05);
}

/// <summary>The destinations there are, with this process's settings for each.</summary>
internal sealed class DestinationCatalog(IOptions<CrmOptions> crm, IOptions<TicketOptions> tickets)
{
    public const string Crm = "crm";
    public const string Tickets = "tickets";

    public IReadOnlyList<Destination> All { get; } =
    [
        new(Crm, ActionNames.CrmSync, "calls", crm.Value),
        new(Tickets, ActionNames.TicketCreate, "tickets", tickets.Value),
    ];

    public Destination? Named(string name) => All.FirstOrDefault(d => d.Name == name);
}

/// <summary>The actions there are.</summary>
internal static class ActionNames
{
    public const string CrmSync = "crm.sync";
    public const string TicketCreate = "ticket.create";

    public static readonly IReadOnlyList<string> All = [CrmSync, TicketCreate];
}
