using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using WebhookReceiver.Operators;

namespace WebhookReceiver.Recovery;

/// <summary>
/// Operator endpoints for refused webhooks: read a quarantined body, re-ingest it (as stored or corrected). Behind
/// operator access, every call audited. (Repairs of background work live in Delivery/.)
/// </summary>
internal static class RecoveryApi
{
    public static IHostApplicationBuilder AddRecovery(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<QuarantineReingest>();
        return builder;
    }

    public static IEndpointRouteBuilder MapRecovery(this IEndpointRouteBuilder app)
    {
        var quarantine = app.MapGroup("/quarantine").RequireOperator().WithTags("Recovery");
        quarantine.MapGet("/{quarantineId:long}", Quarantined)
            .WithSummary("A quarantined (refused) webhook body with its reason and headers.");
        quarantine.MapPost("/{quarantineId:long}/reingest", Reingest)
            .WithSummary("Validate a quarantined body again (as stored or corrected) and store it.");
        return app;
    }

    internal sealed record ReingestAnswer(long QuarantineId, string Status, string CallId, long EventId);

    private static async Task<Results<Ok<QuarantinedView>, ProblemHttpResult>> Quarantined(
        long quarantineId, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            "SELECT id, received_at, reason, errors::text, raw_body, body_length, truncated, headers::text, remote_address, " +
            "reingested_at, reingested_event_id, reingested_by FROM quarantined_webhooks WHERE id = $1");
        command.Parameters.AddWithValue(quarantineId);
        await using var r = await command.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not in quarantine",
                detail: $"There is no quarantined webhook {quarantineId}.");
        }
        var raw = (byte[])r[4];
        var text = System.Text.Unicode.Utf8.IsValid(raw);
        return TypedResults.Ok(new QuarantinedView(r.GetInt64(0), r.GetDateTime(1), r.GetString(2),
            JsonDocument.Parse(r.GetString(3)).RootElement,
            text ? System.Text.Encoding.UTF8.GetString(raw) : null, text ? null : Convert.ToBase64String(raw),
            r.GetInt32(5), r.GetBoolean(6),
            JsonDocument.Parse(r.GetString(7)).RootElement, r.IsDBNull(8) ? null : r.GetString(8),
            r.IsDBNull(9) ? null : r.GetDateTime(9), r.IsDBNull(10) ? null : r.GetInt64(10),
            r.IsDBNull(11) ? null : r.GetString(11)));
    }

    internal sealed record QuarantinedView(long Id, DateTime ReceivedAt, string Reason, JsonElement Errors, string? Body,
        string? BodyBase64, int BodyLength, bool Truncated, JsonElement Headers, string? RemoteAddress, DateTime? ReingestedAt,
        long? ReingestedEventId, string? ReingestedBy);

    /// <summary>
    /// No body: the stored bytes are validated again (after a fix on our side). A JSON body
    /// <c>{"body": {…}}</c>: that corrected event is validated and stored instead.
    /// </summary>
    private static async Task<Results<Ok<ReingestAnswer>, ValidationProblem, ProblemHttpResult>> Reingest(
        long quarantineId, HttpContext http, QuarantineReingest reingest, CancellationToken ct)
    {
        byte[]? corrected = null;
        if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                using var document = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: ct);
                if (!document.RootElement.TryGetProperty("body", out var body) || body.ValueKind != JsonValueKind.Object)
                {
                    return TypedResults.ValidationProblem(
                        new Dictionary<string, string[]> { ["body"] = ["must be the corrected event as a JSON object"] },
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
                ReingestResult.Stored s => TypedResults.Ok(
                    new ReingestAnswer(quarantineId, s.Result.Duplicate ? "duplicate" : "accepted", s.CallId, s.Result.EventId)),
                ReingestResult.StillInvalid i => TypedResults.ValidationProblem(i.Fields, title: "The quarantined body is still invalid.",
                    detail: $"Nothing stored; quarantined webhook {quarantineId} stays as it was.",
                    extensions: new Dictionary<string, object?> { ["reason"] = i.Reason }),
                ReingestResult.AlreadyDone d => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
                    title: "Already re-ingested",
                    detail: $"Quarantined webhook {quarantineId} was stored as event {d.EventId}."),
                ReingestResult.Truncated t => TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity,
                    title: "Body was truncated",
                    detail: $"Only the first {t.BodyLength} bytes were kept; send the corrected event as {{\"body\": {{…}}}}."),
                _ => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not in quarantine",
                    detail: $"There is no quarantined webhook {quarantineId}."),
            };
        }
        catch (PostgresException ex) when (ex.SqlState.StartsWith("22", StringComparison.Ordinal))
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["body"] = [$"holds a value PostgreSQL cannot store ({ex.MessageText})"] },
                title: "The quarantined body is still invalid.");
        }
    }
}
