using System.Text.Json;
using System.Text.Json.Serialization;
using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using WebhookReceiver.Data;
using WebhookReceiver.Operators;

namespace WebhookReceiver.Delivery;

/// <summary>
/// Operator endpoints that repair work: retry or cancel one action or all matching ones, replay an event's
/// workflows. Behind operator access, every call audited (OperatorAccessFilter logs the request; the services
/// log what changed). They change rows only; the dispatcher picks up what became due.
/// </summary>
internal static class ActionsApi
{
    private static readonly JsonSerializerOptions FilterJson = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // A misspelt field must not silently widen a bulk retry to every failed action.
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public static IEndpointRouteBuilder MapActions(this IEndpointRouteBuilder app)
    {
        var actions = app.MapGroup("/actions").RequireOperator().WithTags("Recovery");
        actions.MapPost("/{actionId:long}/retry", RetryOne)
            .WithSummary("Retry one action now (failed, skipped, or waiting for a retry), with a fresh retry budget.");
        actions.MapPost("/{actionId:long}/cancel", CancelOne)
            .WithSummary("Cancel a pending action that is not being sent right now; it becomes failed (kind canceled).");
        actions.MapPost("/retry", (HttpContext http, IBackgroundJobClient jobs, NpgsqlDataSource db, CancellationToken ct) =>
                Bulk(BulkActionJob.Retry, http, jobs, db, ct))
            .WithSummary("Retry every failed or skipped action matching a filter, as a background job.");
        actions.MapPost("/cancel", (HttpContext http, IBackgroundJobClient jobs, NpgsqlDataSource db, CancellationToken ct) =>
                Bulk(BulkActionJob.Cancel, http, jobs, db, ct))
            .WithSummary("Cancel every pending action matching a filter that is not being sent right now, as a background job.");
        app.MapGroup("/events").RequireOperator().WithTags("Recovery")
            .MapPost("/{eventId:long}/replay", Replay)
            .WithSummary("Run a stored event's workflows again, on purpose (recorded as a replay).");
        return app;
    }

    internal sealed record ActionAnswer(long ActionId, string Status, string Detail);

    internal sealed record BulkAnswer(string Operation, string JobId, long MatchingNow, string Dashboard, ActionFilter Filter);

    internal sealed record ReplayAnswer(long EventId, IReadOnlyList<ReplayedAction> Replays);

    private static async Task<Results<Accepted<ActionAnswer>, ProblemHttpResult>> RetryOne(
        long actionId, HttpContext http, ActionRecovery recovery, CancellationToken ct) =>
        Answer(actionId, ActionState.Pending, await recovery.RetryAsync(actionId, OperatorAccess.Name(http), ct));

    private static async Task<Results<Accepted<ActionAnswer>, ProblemHttpResult>> CancelOne(
        long actionId, HttpContext http, ActionRecovery recovery, CancellationToken ct) =>
        Answer(actionId, ActionState.Failed, await recovery.CancelAsync(actionId, OperatorAccess.Name(http), ct));

    private static Results<Accepted<ActionAnswer>, ProblemHttpResult> Answer(long actionId, string status, RecoveryResult result) =>
        result.Outcome switch
        {
            RecoveryOutcome.Done => TypedResults.Accepted((string?)null, new ActionAnswer(actionId, status, result.Detail)),
            RecoveryOutcome.NotFound => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Action not found",
                detail: result.Detail),
            _ => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not possible in the action's current state",
                detail: result.Detail),
        };

    private static async Task<Results<Accepted<BulkAnswer>, ValidationProblem>> Bulk(
        string operation, HttpContext http, IBackgroundJobClient jobs, NpgsqlDataSource db, CancellationToken ct)
    {
        ActionFilter filter;
        try
        {
            filter = http.Request.ContentLength == 0 ? new ActionFilter()
                : await JsonSerializer.DeserializeAsync<ActionFilter>(http.Request.Body, FilterJson, ct) ?? new ActionFilter();
        }
        catch (JsonException ex)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"is not a valid filter: {ex.Message}"] },
                title: "The filter is invalid.");
        }
        var errors = filter.Validate();
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The filter is invalid.");
        }
        var requestedBy = OperatorAccess.Name(http);
        await using var count = db.CreateCommand(
            "SELECT count(*) FROM call_actions WHERE " +
            $"{(operation == BulkActionJob.Retry ? ActionRecovery.BulkRetryable : ActionRecovery.Cancelable)} AND {ActionFilter.Sql(1)}");
        filter.AddParameters(count);
        var matching = (long)(await count.ExecuteScalarAsync(ct))!;
        var jobId = jobs.Enqueue<BulkActionJob>(j => j.RunAsync(operation, filter, requestedBy, CancellationToken.None));
        return TypedResults.Accepted($"/hangfire/jobs/details/{jobId}",
            new BulkAnswer(operation, jobId, matching, $"/hangfire/jobs/details/{jobId}", filter));
    }

    private static async Task<Results<Accepted<ReplayAnswer>, ProblemHttpResult, ValidationProblem>> Replay(long eventId, string? action,
        HttpContext http, EventReplay replay, CancellationToken ct)
    {
        if (action is not null && !ActionFilter.Actions.Contains(action))
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["action"] = [$"must be one of {string.Join(", ", ActionFilter.Actions)}"] });
        }
        var replayed = await replay.ReplayAsync(eventId, action, OperatorAccess.Name(http), ct);
        return replayed switch
        {
            null => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Event not found",
                detail: $"There is no event {eventId}."),
            [] => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Nothing to replay",
                detail: $"Event {eventId} caused no {action ?? "workflow"} (only events after which the call is final do)."),
            _ => TypedResults.Accepted((string?)null, new ReplayAnswer(eventId, replayed)),
        };
    }
}
