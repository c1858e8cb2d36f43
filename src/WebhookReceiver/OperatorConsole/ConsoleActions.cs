using System.Globalization;
using Hangfire;
using Microsoft.AspNetCore.WebUtilities;
using WebhookReceiver.Operators;
using WebhookReceiver.Delivery;
using WebhookReceiver.Recovery;

namespace WebhookReceiver.OperatorConsole;

/// <summary>
/// The console's buttons: plain HTML form POSTs (no JavaScript) to the same services as the /actions, /events
/// and /quarantine API, answered with a redirect back to the page (post/redirect/get) carrying a notice code.
/// Cross-site form posts are refused by OperatorAccessFilter (Sec-Fetch-Site / Origin), so a page elsewhere
/// cannot press these buttons with an operator's saved credentials.
/// </summary>
internal static class ConsoleActions
{
    public static RouteGroupBuilder MapConsoleActions(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(ConsolePaths.Root).RequireOperator().WithTags("Console");
        group.MapPost("/actions/{actionId:long}/retry",
                async (long actionId, HttpContext http, ActionRecovery recovery, CancellationToken ct) => await BackToCall(http,
                    ConsoleNotice.ForAction("retry", (await recovery.RetryAsync(actionId, OperatorAccess.Name(http), ct)).Outcome)))
            .WithSummary("Console button: retry an action now, then back to its call page (form field call_id).");
        group.MapPost("/actions/{actionId:long}/cancel",
                async (long actionId, HttpContext http, ActionRecovery recovery, CancellationToken ct) => await BackToCall(http,
                    ConsoleNotice.ForAction("cancel", (await recovery.CancelAsync(actionId, OperatorAccess.Name(http), ct)).Outcome)))
            .WithSummary("Console button: cancel a pending action that is not being sent, then back to its call page.");
        group.MapPost("/events/{eventId:long}/replay", async (long eventId, HttpContext http, EventReplay replay, CancellationToken ct) =>
                await BackToCall(http, await replay.ReplayAsync(eventId, null, OperatorAccess.Name(http), ct) is { Count: > 0 }
                    ? "replayed"
                    : "nothing-to-replay"))
            .WithSummary("Console button: replay an event's workflows, then back to its call page.");
        group.MapPost("/quarantine/{quarantineId:long}/reingest", Reingest)
            .WithSummary("Console button: validate a quarantined body again; to its call when stored, else back to the events page.");
        group.MapPost("/destinations/{name}/pause", (string name, HttpContext http, DestinationControl control, CancellationToken ct) =>
                SetPaused(name, paused: true, http, control, ct))
            .WithSummary("Console button: pause a destination, then back to the destinations page.");
        group.MapPost("/destinations/{name}/resume", (string name, HttpContext http, DestinationControl control, CancellationToken ct) =>
                SetPaused(name, paused: false, http, control, ct))
            .WithSummary("Console button: resume a destination, then back to the destinations page.");
        group.MapPost("/failures/retry", RetryGroup)
            .WithSummary("Console button: retry every failed action of a failure group (bulk job), then open the job.");
        return group;
    }

    private static async Task<IResult> BackToCall(HttpContext http, string notice)
    {
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var callId = form["call_id"].ToString();
        var page = callId.Length > 0 ? ConsolePaths.Call(callId) : ConsolePaths.Root;
        return Results.Redirect(QueryHelpers.AddQueryString(page, "notice", notice), permanent: false, preserveMethod: false);
    }

    private static async Task<IResult> SetPaused(
        string name, bool paused, HttpContext http, DestinationControl control, CancellationToken ct)
    {
        var changed = await control.SetPausedAsync(name, paused, OperatorAccess.Name(http), ct);
        var notice = changed switch
        {
            null => "destination-unknown",
            true => paused ? "paused" : "resumed",
            false => paused ? "already-paused" : "already-resumed",
        };
        return Results.Redirect(QueryHelpers.AddQueryString("/console/destinations", "notice", notice),
            permanent: false, preserveMethod: false);
    }

    private static async Task<IResult> Reingest(long quarantineId, HttpContext http, QuarantineReingest reingest, CancellationToken ct)
    {
        var result = await reingest.ReingestAsync(quarantineId, null, OperatorAccess.Name(http), ct);
        return result is ReingestResult.Stored stored
            ? Results.Redirect(QueryHelpers.AddQueryString(ConsolePaths.Call(stored.CallId), "notice", "reingested"))
            : Results.Redirect(QueryHelpers.AddQueryString("/console/events?result=invalid", "notice", result switch
            {
                ReingestResult.StillInvalid => "still-invalid",
                ReingestResult.AlreadyDone => "already-reingested",
                ReingestResult.Truncated => "truncated",
                _ => "not-found",
            }));
    }

    private static async Task<IResult> RetryGroup(HttpContext http, IBackgroundJobClient jobs)
    {
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var filter = new ActionFilter(
            Text(form["action"]), Text(form["error_kind"]),
            int.TryParse(form["http_status"], NumberStyles.None, CultureInfo.InvariantCulture, out var status) ? status : null,
            Time(form["since"]), Time(form["until"]));
        if (filter.Validate().Count > 0)
        {
            return Results.Redirect("/console/failures?notice=bad-filter");
        }
        var requestedBy = OperatorAccess.Name(http);
        var jobId = jobs.Enqueue<BulkActionJob>(j => j.RunAsync(BulkActionJob.Retry, filter, requestedBy, CancellationToken.None));
        // The job's page shows it running, then how many actions it handed back.
        return Results.Redirect(ConsolePaths.Job(jobId));
    }

    private static string? Text(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static DateTimeOffset? Time(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;
}

/// <summary>
/// What a button did, passed back as a fixed code (never free text in the URL, so a link cannot put words in
/// the console's mouth) and shown at the top of the page.
/// </summary>
public static class ConsoleNotice
{
    private static readonly Dictionary<string, string> Messages = new(StringComparer.Ordinal)
    {
        ["retry-done"] = "Due now, with a fresh retry budget: the dispatcher sends it within moments.",
        ["retry-conflict"] = "Not retried: the action already succeeded (replay its event instead) or is being sent right now.",
        ["retry-notfound"] = "Not retried: no such action.",
        ["cancel-done"] = "Cancelled; the action is failed (kind canceled) until retried.",
        ["cancel-conflict"] = "Nothing cancelled: the action is not pending, or is being sent right now.",
        ["cancel-notfound"] = "Nothing cancelled: no such action.",
        ["replayed"] = "Replayed: the event's workflows run again as new, recorded actions (see Actions below).",
        ["nothing-to-replay"] = "Nothing replayed: this event caused no workflow (only events after which the call is final do).",
        ["reingested"] = "Re-ingested: the quarantined body passed validation and is stored as an event of this call.",
        ["still-invalid"] = "Not re-ingested: the body is still invalid (nothing stored). " +
            "Send a corrected body to POST /quarantine/{id}/reingest.",
        ["already-reingested"] = "Not re-ingested: it was re-ingested before.",
        ["truncated"] = "Not re-ingested: only the start of that body was kept. Send a corrected body to POST /quarantine/{id}/reingest.",
        ["not-found"] = "Not re-ingested: no such quarantined body.",
        ["bad-filter"] = "Nothing retried: the group's filter was not usable.",
        ["paused"] = "Paused: nothing is sent to this destination until resumed; its work waits as pending.",
        ["resumed"] = "Resumed: the waiting work drains at the destination's rate.",
        ["already-paused"] = "It was already paused.",
        ["already-resumed"] = "It was not paused.",
        ["destination-unknown"] = "No such destination.",
    };

    internal static string ForAction(string verb, RecoveryOutcome outcome) => $"{verb}-{outcome.ToString().ToLowerInvariant()}";

    public static string? From(IQueryCollection query) => Messages.GetValueOrDefault(query["notice"].ToString());
}
