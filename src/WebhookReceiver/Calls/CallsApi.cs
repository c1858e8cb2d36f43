using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using WebhookReceiver.ApiDocs;
using WebhookReceiver.Data;
using WebhookReceiver.Operators;

namespace WebhookReceiver.Calls;

internal static class CallsApi
{
    public static RouteGroupBuilder MapCalls(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/calls").RequireOperator().WithTags("Calls");
        group.MapGet("/{callId}", GetCall).WithName("GetCall")
            .WithSummary("A call record with its timeline (the newest 500 events, each with its data) and background actions")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/", ListCalls).WithName("ListCalls").WithSummary("Call records, newest activity first (keyset pagination)")
            .WithQueryParameters(
                ("customer_id", "Only calls of this customer"),
                ("status", "Only calls in this status (no_answer = no-answer)"),
                ("stale", "true: only calls marked stale (no final status in time); false: only the others"),
                ("since", "Activity at or after this RFC 3339 time"),
                ("until", "Activity before this RFC 3339 time"),
                ("limit", "1–500, default 50"),
                ("cursor", "next_cursor of the previous page"));
        group.MapPost("/", CreateCallApi.CreateCall).WithName("CreateCall").WithSummary("Place a call through MiniVoice and store it")
            .DocumentJsonBody<CreateCallRequestBody>()
            .ProducesProblem(StatusCodes.Status402PaymentRequired)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout);
        return group;
    }

    private static async Task<Results<Ok<CallDetailsResponse>, ProblemHttpResult>> GetCall(
        string callId, AppDbContext db, Serilog.IDiagnosticContext diagnostics, CancellationToken cancellationToken)
    {
        diagnostics.Set("CallId", callId);
        var details = await LoadCallAsync(db, callId, cancellationToken);
        return details is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Call not found",
                detail: $"No call with ID '{callId}' has been seen.")
            : TypedResults.Ok(details);
    }

    /// <summary>The call with its timeline and actions; null when unknown. Shared with the console's call page.</summary>
    internal static async Task<CallDetailsResponse?> LoadCallAsync(AppDbContext db, string callId, CancellationToken cancellationToken)
    {
        var call = await db.Calls.AsNoTracking().FirstOrDefaultAsync(c => c.Id == callId, cancellationToken);
        if (call is null)
        {
            return null;
        }
        var (events, eventsTotal) = await CallTimeline.LoadAsync(db, callId, cancellationToken);
        var actions = await db.Actions.AsNoTracking().Where(a => a.CallId == callId).OrderBy(a => a.Id)
            .Select(a => new ActionView(a.Id, a.Action, a.State, a.Attempts, a.LastError, a.LastErrorKind, a.LastHttpStatus, a.JobId,
                a.UpdatedAt, a.CompletedAt))
            .ToListAsync(cancellationToken);
        return CallDetailsResponse.Of(CallSummary.Of(call), events, eventsTotal, actions);
    }

    private static async Task<Results<Ok<CallPage>, ValidationProblem>> ListCalls(
        HttpRequest request, AppDbContext db, CancellationToken cancellationToken)
    {
        if (!CallListQuery.TryParse(request.Query, out var q, out var errors))
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid query parameters.");
        }
        return TypedResults.Ok(await ListCallsAsync(db, q, cancellationToken));
    }

    /// <summary>One keyset page of calls, newest activity first. Shared with the console's call list.</summary>
    internal static async Task<CallPage> ListCallsAsync(AppDbContext db, CallListQuery q, CancellationToken cancellationToken)
    {
        var calls = db.Calls.AsNoTracking();
        if (q.CustomerId is not null)
        {
            calls = calls.Where(c => c.CustomerId == q.CustomerId);
        }
        if (q.Status is not null)
        {
            calls = calls.Where(c => c.Status == q.Status);
        }
        if (q.Stale is { } stale)
        {
            calls = stale ? calls.Where(c => c.StaleAt != null) : calls.Where(c => c.StaleAt == null);
        }
        if (q.Since is not null)
        {
            calls = calls.Where(c => c.ActivityAt >= q.Since);
        }
        if (q.Until is not null)
        {
            calls = calls.Where(c => c.ActivityAt < q.Until);
        }
        if (q.After is { } after)
        {
            calls = calls.Where(c => c.ActivityAt < after.At || (c.ActivityAt == after.At && string.Compare(c.Id, after.Id) < 0));
        }
        var page = await calls.OrderByDescending(c => c.ActivityAt).ThenByDescending(c => c.Id)
            .Take(q.Limit + 1).ToListAsync(cancellationToken);
        var next = page.Count > q.Limit ? CallListQuery.EncodeCursor(page[q.Limit - 1].ActivityAt, page[q.Limit - 1].Id) : null;
        return new CallPage(page.Take(q.Limit).Select(CallSummary.Of).ToList(), next);
    }
}

/// <summary>The call record with its timeline and background work, flattened as the contract shows it.</summary>
internal sealed record CallDetailsResponse(
    string Id, string? CustomerId, string? ApplicationId, string? Direction,
    [property: System.Text.Json.Serialization.JsonPropertyName("from")] string? From,
    [property: System.Text.Json.Serialization.JsonPropertyName("to")] string? To,
    string? Status, bool IsFinal, DateTime? FirstEventAt, DateTime? LastEventAt,
    System.Text.Json.JsonElement Variables, System.Text.Json.JsonElement Recordings, System.Text.Json.JsonElement Transcripts,
    System.Text.Json.JsonElement AiResults, System.Text.Json.JsonElement? Billing,
    IReadOnlyList<EventView> Events, long EventsTotal, string? OlderEvents, IReadOnlyList<ActionView> Actions, bool Stale,
    DateTime? StaleSince)
{
    /// <summary>OlderEvents: where the events the bounded timeline leaves out are listed; null when it holds them all.</summary>
    public static CallDetailsResponse Of(
        CallSummary c, IReadOnlyList<EventView> events, long eventsTotal, IReadOnlyList<ActionView> actions) => new(
        c.Id, c.CustomerId, c.ApplicationId, c.Direction, c.From, c.To, c.Status, c.IsFinal, c.FirstEventAt, c.LastEventAt,
        c.Variables, c.Recordings, c.Transcripts, c.AiResults, c.Billing, events, eventsTotal,
        eventsTotal > events.Count ? CallTimeline.OlderEventsPath("", c.Id) : null, actions, c.Stale, c.StaleSince);
}
