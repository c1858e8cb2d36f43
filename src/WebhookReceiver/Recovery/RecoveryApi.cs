using System.Text.Json;
using System.Text.Json.Serialization;
using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using WebhookReceiver.Operators;

namespace WebhookReceiver.Recovery;

/// <summary>
/// Operator endpoints that repair work: retry or cancel one action or all matching ones, replay an event's
/// workflows, re-ingest a quarantined body. Behind operator access, every call audited (OperatorAccessFilter
/// logs the request; the services log what changed).
/// </summary>
internal static class RecoveryApi
{
    private static readonly JsonSerializerOptions FilterJson = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // A misspelt field must not silently widen a bulk retry to every failed action.
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public static IHostApplicationBuilder AddRecovery(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ActionRecovery>();
        builder.Services.AddSingleton<EventReplay>();
        builder.Services.AddSingleton<QuarantineReingest>();
        builder.Services.AddTransient<BulkActionJob>();
        return builder;
    }

    public static IEndpointRouteBuilder MapRecovery(this IEndpointRouteBuilder app)
    {
        var actions = app.MapGroup("/actions").RequireOperator().WithTags("Recovery");
        actions.MapPost("/{actionId:long}/retry", RetryOne).WithSummary("Retry one action now (a failed one, or one waiting for a scheduled retry).");
        actions.MapPost("/{actionId:long}/cancel", CancelOne).WithSummary("Cancel an action's scheduled retry; it becomes failed (kind canceled).");
        actions.MapPost("/retry", (HttpContext http, IBackgroundJobClient jobs, NpgsqlDataSource db, CancellationToken ct) =>
            Bulk(BulkActionJob.Retry, http, jobs, db, ct)).WithSummary("Retry every failed action matching a filter, as a background job.");
        actions.MapPost("/cancel", (HttpContext http, IBackgroundJobClient jobs, NpgsqlDataSource db, CancellationToken ct) =>
            Bulk(BulkActionJob.Cancel, http, jobs, db, ct)).WithSummary("Cancel the scheduled retries of every pending action matching a filter, as a background job.");
        app.MapGroup("/events").RequireOperator().WithTags("Recovery")
            .MapPost("/{eventId:long}/replay", Replay).WithSummary("Run a stored event's workflows again, on purpose (recorded as a replay).");
        var quarantine = app.MapGroup("/quarantine").RequireOperator().WithTags("Recovery");
        quarantine.MapGet("/{quarantineId:long}", Quarantined).WithSummary("A quarantined (refused) webhook body with its reason and headers.");
        quarantine.MapPost("/{quarantineId:long}/reingest", Reingest).WithSummary("Validate a quarantined body again (as stored or corrected) and store it.");
        return app;
    }

    internal sealed record ActionAnswer(long ActionId, string Status, string Detail);

    internal sealed record BulkAnswer(string Operation, string JobId, long MatchingNow, string Dashboard, ActionFilter Filter);

    internal sealed record ReplayAnswer(long EventId, IReadOnlyList<ReplayedAction> Replays);

    internal sealed record ReingestAnswer(long QuarantineId, string Status, string CallId, long EventId);

    private static async Task<Results<Accepted<ActionAnswer>, ProblemHttpResult>> RetryOne(long actionId, HttpContext http, ActionRecovery recovery,
        CancellationToken ct) => Answer(actionId, "pending", await recovery.RetryAsync(actionId, OperatorAccess.Name(http), ct));

    private static async Task<Results<Accepted<ActionAnswer>, ProblemHttpResult>> CancelOne(long actionId, HttpContext http, ActionRecovery recovery,
        CancellationToken ct) => Answer(actionId, "failed", await recovery.CancelAsync(actionId, OperatorAccess.Name(http), ct));

    private static Results<Accepted<ActionAnswer>, ProblemHttpResult> Answer(long actionId, string status, RecoveryResult result) => result.Outcome switch
    {
        RecoveryOutcome.Done => TypedResults.Accepted((string?)null, new ActionAnswer(actionId, status, result.Detail)),
        RecoveryOutcome.NotFound => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Action not found", detail: result.Detail),
        _ => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not possible in the action's current state", detail: result.Detail),
    };

    private static async Task<Results<Accepted<BulkAnswer>, ValidationProblem>> Bulk(string operation, HttpContext http, IBackgroundJobClient jobs,
        NpgsqlDataSource db, CancellationToken ct)
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
            $"SELECT count(*) FROM call_actions WHERE state = '{(operation == BulkActionJob.Retry ? "failed" : "pending")}' AND {ActionFilter.Sql(1)}");
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
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["action"] = [$"must be one of {string.Join(", ", ActionFilter.Actions)}"] });
        }
        var replayed = await replay.ReplayAsync(eventId, action, OperatorAccess.Name(http), ct);
        return replayed switch
        {
            null => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Event not found", detail: $"There is no event {eventId}."),
            [] => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Nothing to replay",
                detail: $"Event {eventId} caused no {action ?? "workflow"} (only events after which the call is final do)."),
            _ => TypedResults.Accepted((string?)null, new ReplayAnswer(eventId, replayed)),
        };
    }

    private static async Task<Results<Ok<QuarantinedView>, ProblemHttpResult>> Quarantined(long quarantineId, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            "SELECT id, received_at, reason, errors::text, raw_body, body_length, truncated, headers::text, remote_address, " +
            "reingested_at, reingested_event_id, reingested_by FROM quarantined_webhooks WHERE id = $1");
        command.Parameters.AddWithValue(quarantineId);
        await using var r = await command.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not in quarantine", detail: $"There is no quarantined webhook {quarantineId}.");
        }
        var raw = (byte[])r[4];
        var text = System.Text.Unicode.Utf8.IsValid(raw);
        return TypedResults.Ok(new QuarantinedView(r.GetInt64(0), r.GetDateTime(1), r.GetString(2), JsonDocument.Parse(r.GetString(3)).RootElement,
            text ? System.Text.Encoding.UTF8.GetString(raw) : null, text ? null : Convert.ToBase64String(raw), r.GetInt32(5), r.GetBoolean(6),
            JsonDocument.Parse(r.GetString(7)).RootElement, r.IsDBNull(8) ? null : r.GetString(8),
            r.IsDBNull(9) ? null : r.GetDateTime(9), r.IsDBNull(10) ? null : r.GetInt64(10), r.IsDBNull(11) ? null : r.GetString(11)));
    }

    internal sealed record QuarantinedView(long Id, DateTime ReceivedAt, string Reason, JsonElement Errors, string? Body, string? BodyBase64,
        int BodyLength, bool Truncated, JsonElement Headers, string? RemoteAddress, DateTime? ReingestedAt, long? ReingestedEventId, string? ReingestedBy);

    /// <summary>
    /// No body: the stored bytes are validated again (after a fix on our side). A JSON body
    /// <c>{"body": {…}}</c>: that corrected event is validated and stored instead.
    /// </summary>
    private static async Task<Results<Ok<ReingestAnswer>, ValidationProblem, ProblemHttpResult>> Reingest(long quarantineId, HttpContext http,
        QuarantineReingest reingest, CancellationToken ct)
    {
        byte[]? corrected = null;
        if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                using var document = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: ct);
                if (!document.RootElement.TryGetProperty("body", out var body) || body.ValueKind != JsonValueKind.Object)
                {
                    return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["must be the corrected event as a JSON object"] },
                        title: "The re-ingest request is invalid.");
                }
                corrected = System.Text.Encoding.UTF8.GetBytes(body.GetRawText());
            }
            catch (JsonException ex)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"is not valid JSON: {ex.Message}"] },
                    title: "The re-ingest request is invalid.");
            }
        }
        try
        {
            return await reingest.ReingestAsync(quarantineId, corrected, OperatorAccess.Name(http), ct) switch
            {
                ReingestResult.Stored s => TypedResults.Ok(new ReingestAnswer(quarantineId, s.Result.Duplicate ? "duplicate" : "accepted", s.CallId, s.Result.EventId)),
                ReingestResult.StillInvalid i => TypedResults.ValidationProblem(i.Fields, title: "The quarantined body is still invalid.",
                    detail: $"Nothing stored; quarantined webhook {quarantineId} stays as it was.", extensions: new Dictionary<string, object?> { ["reason"] = i.Reason }),
                ReingestResult.AlreadyDone d => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Already re-ingested",
                    detail: $"Quarantined webhook {quarantineId} was stored as event {d.EventId}."),
                ReingestResult.Truncated t => TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Body was truncated",
                    detail: $"Only the first {t.BodyLength} bytes were kept; send the corrected event as {{\"body\": {{…}}}}."),
                _ => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not in quarantine",
                    detail: $"There is no quarantined webhook {quarantineId}."),
            };
        }
        catch (PostgresException ex) when (ex.SqlState.StartsWith("22", StringComparison.Ordinal))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"holds a value PostgreSQL cannot store ({ex.MessageText})"] },
                title: "The quarantined body is still invalid.");
        }
    }
}
