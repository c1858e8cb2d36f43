using Microsoft.AspNetCore.Http.HttpResults;
using WebhookReceiver.Operators;

namespace WebhookReceiver.Delivery;

/// <summary>GET /destinations, POST /destinations/{name}/pause and /resume (operator credentials; every call audited).</summary>
internal static class DestinationsApi
{
    internal sealed record DestinationList(IReadOnlyList<DestinationStatus> Items);

    internal sealed record PauseAnswer(string Name, string Status, bool Changed);

    public static RouteGroupBuilder MapDestinations(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/destinations").RequireOperator().WithTags("Destinations");
        group.MapGet("", List)
            .WithSummary("Each destination's state (closed, open, half-open, paused), lanes in flight, rate, backlog and last error.");
        group.MapPost("/{name}/pause", (string name, HttpContext http, DestinationControl control, CancellationToken ct) =>
                Set(name, paused: true, http, control, ct))
            .WithSummary("Pause a destination: nothing is sent to it; its work waits as pending rows.");
        group.MapPost("/{name}/resume", (string name, HttpContext http, DestinationControl control, CancellationToken ct) =>
                Set(name, paused: false, http, control, ct))
            .WithSummary("Resume a paused destination; its waiting work drains at the configured rate.");
        return group;
    }

    private static async Task<Ok<DestinationList>> List(DestinationStatusReader reader, CancellationToken ct) =>
        TypedResults.Ok(new DestinationList((await reader.ReadAsync(ct)).Destinations));

    private static async Task<Results<Ok<PauseAnswer>, ProblemHttpResult>> Set(string name, bool paused, HttpContext http,
        DestinationControl control, CancellationToken ct)
    {
        var changed = await control.SetPausedAsync(name, paused, OperatorAccess.Name(http), ct);
        return changed is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown destination",
                detail: $"There is no destination '{name}'; there are {string.Join(", ", control.Names)}.")
            : TypedResults.Ok(new PauseAnswer(name, paused ? "paused" : "resumed", changed.Value));
    }
}

/// <summary>Pause and resume, shared by the API and the console: the row changes, the change is audited and alerted.</summary>
internal sealed class DestinationControl(
    DestinationCatalog catalog, DestinationGate gate, AlertSender alerts, ILogger<DestinationControl> audit)
{
    public IEnumerable<string> Names => catalog.All.Select(d => d.Name);

    /// <returns>null for an unknown destination; else whether it changed (false: it already was).</returns>
    public async Task<bool?> SetPausedAsync(string name, bool paused, string by, CancellationToken ct)
    {
        if (catalog.Named(name) is not { } d)
        {
            return null;
        }
        var changed = await gate.SetPausedAsync(d, paused, by, ct);
        if (changed)
        {
            audit.LogInformation("Operator {Operator} {Change} destination {Destination}", by, paused ? "paused" : "resumed", name);
            // Not awaited: the operator's request must not wait on a slow chat webhook (RaiseAsync never throws).
            _ = alerts.RaiseAsync(name, paused ? AlertKind.Paused : AlertKind.Resumed,
                paused
                    ? $"{name} paused by {by}: nothing is sent to it until resumed; work waits as pending."
                    : $"{name} resumed by {by}; its waiting work drains now.");
        }
        return changed;
    }
}
