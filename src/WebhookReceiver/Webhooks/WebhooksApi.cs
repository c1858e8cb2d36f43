using System.Text.Json;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using IDiagnosticContext = Serilog.IDiagnosticContext;
using WebhookReceiver.ApiDocs;
using WebhookReceiver.Events;

namespace WebhookReceiver.Webhooks;

internal static class WebhooksApi
{
    private static readonly JsonDocumentOptions JsonOptions = new() { AllowDuplicateProperties = false, MaxDepth = 64 };
    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];

    public static IHostApplicationBuilder AddWebhooks(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidator<WebhookPayload>, WebhookPayloadValidator>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<WebhookAuthenticator>();
        builder.Services.AddOptions<WorkflowOptions>().BindConfiguration(WorkflowOptions.SectionName);
        builder.Services.AddSingleton(sp =>
            new TicketStatuses(sp.GetRequiredService<IOptions<WorkflowOptions>>().Value.CanonicalTicketStatuses()));
        builder.Services.AddSingleton<WorkSignal>();
        builder.Services.AddSingleton<IngestStore>();
        builder.Services.AddSingleton<IngestWriter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IngestWriter>());
        builder.Services.AddSingleton<QuarantineStore>();
        builder.Services.AddSingleton<WebhookMetrics>();
        builder.Services.AddSingleton<WebhookEdge>();
        return builder;
    }

    public static RouteGroupBuilder MapWebhooks(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/webhooks").WithTags("Webhooks");
        group.MapPost("/minivoice", Receive).DisableAntiforgery()
            .WithName("ReceiveMiniVoiceWebhook")
            .WithSummary("Receive a MiniVoice webhook")
            .WithDescription("Authenticated by a Standard Webhooks signature (webhook-id, webhook-timestamp, webhook-signature; " +
                             "svix-* aliases) or HTTP Basic. 202 when stored, 200 for a duplicate delivery; " +
                             "the event is committed before any 2xx.")
            .DocumentJsonBody<MiniVoiceEventBody>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    internal sealed record Answer(string Status, string CallId, long EventId);

    private static async Task<Results<Accepted<Answer>, Ok<Answer>, ValidationProblem, ProblemHttpResult>> Receive(
        HttpContext context, WebhookEdge edge, CancellationToken cancellationToken)
    {
        var (options, metrics, logger) = (edge.Options.Value, edge.Metrics, edge.Logger);
        var request = context.Request;
        var max = options.MaxBodyBytes;
        if (request.ContentLength > max)
        {
            metrics.Received("too_large");
            edge.Receipt(context, ReceiptResult.TooLarge, "content_length", request.ContentLength.Value);
            return TooLarge(max);
        }
        if (!JsonContentType.IsJson(request.ContentType))
        {
            metrics.Received("unsupported_media_type");
            edge.Receipt(context, ReceiptResult.Invalid, "unsupported_media_type", request.ContentLength ?? 0);
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type", detail: "Send the event as Content-Type: application/json.");
        }
        var body = await CappedBody.ReadAsync(request, max, cancellationToken);
        if (body is null)
        {
            metrics.Received("too_large");
            edge.Receipt(context, ReceiptResult.TooLarge, "body_over_limit", max + 1L);
            return TooLarge(max);
        }

        var authFailure = edge.Authenticator.Authenticate(request.Headers, body);
        if (authFailure is not null)
        {
            metrics.AuthFailed(authFailure);
            edge.Receipt(context, ReceiptResult.Unauthorized, authFailure, body.Length);
            logger.LogWarning("Webhook refused: authentication failed ({Reason}) from {RemoteAddress}",
                authFailure, context.Connection.RemoteIpAddress);
            // No detail on which check failed: that would help a forger.
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
        }

        try
        {
            var (payload, errors) = Parse(body, request.Headers, edge.Validator);
            if (errors is not null)
            {
                return await Refuse(context, body, errors.Value.Reason, errors.Value.Fields, edge, payload, cancellationToken);
            }
            return await Store(context, payload!, body, edge);
        }
        catch (PostgresException ex) when (ex.SqlState.StartsWith("22", StringComparison.Ordinal))
        {
            // Class 22, data exception: valid JSON that PostgreSQL cannot hold (a \u0000, a number past numeric's
            // range). The sender's data, not our outage: a 503 would have it retried forever.
            var fields = new Dictionary<string, string[]> { ["body"] = [$"holds a value PostgreSQL cannot store ({ex.MessageText})"] };
            return await Refuse(context, body, "unstorable_text", fields, edge, null, cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IngestUnavailableException)
        {
            metrics.Received("unavailable");
            logger.LogError("Webhook not stored, database unavailable: {Error}", ex.Message);
            context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable",
                detail: "The event was not stored; retry later.");
        }
    }

    /// <summary>Parses and validates a body (also an operator's re-ingest of a quarantined one).</summary>
    internal static (WebhookPayload? Payload, (string Reason, Dictionary<string, string[]> Fields)? Errors) Parse(
        byte[] body, IHeaderDictionary headers, IValidator<WebhookPayload> validator)
    {
        // JSON text is UTF-8; the parser does not check inside strings, so check it all here.
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return (null, ("invalid_json", new() { ["body"] = ["is not valid UTF-8"] }));
        }
        WebhookPayload payload;
        try
        {
            // RFC 8259 lets a parser ignore a byte order mark; the stored raw body keeps it.
            using var document = JsonDocument.Parse(body.AsMemory(body.AsSpan().StartsWith(Utf8Bom) ? Utf8Bom.Length : 0), JsonOptions);
            payload = WebhookPayloadReader.Read(document.RootElement);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a string that cannot be read as text, such as a lone "\ud800" escape.
            return (null, ("invalid_json", new() { ["body"] = [$"is not valid JSON: {ex.Message}"] }));
        }
        if (payload.ShapeErrors is [{ Field: "body" } notAnObject])
        {
            // Not an object at all: naming every missing field would only bury the real problem.
            return (null, ("validation_failed", new() { ["body"] = [notAnObject.Message] }));
        }
        var fields = new Dictionary<string, string[]>();
        var result = validator.Validate(payload);
        foreach (var group in result.Errors.GroupBy(e => e.PropertyName))
        {
            fields[group.Key] = group.Select(e => e.ErrorMessage).Distinct().ToArray();
        }
        if (WebhookHeaders.Id(headers) is { Length: > EventIdentity.MaxWebhookIdLength })
        {
            fields["webhook-id"] = [$"must be at most {EventIdentity.MaxWebhookIdLength} characters"];
        }
        // The payload comes back with its errors too: its call ID and event name, when readable, go in the receipt.
        return (payload, fields.Count > 0 ? ("validation_failed", fields) : null);
    }

    private static async Task<Results<Accepted<Answer>, Ok<Answer>, ValidationProblem, ProblemHttpResult>> Store(
        HttpContext context, WebhookPayload payload, byte[] body, WebhookEdge edge)
    {
        var (metrics, logger) = (edge.Metrics, edge.Logger);
        var callId = payload.CallId!;
        edge.Diagnostics.Set("CallId", callId);
        var webhookId = WebhookHeaders.Id(context.Request.Headers);
        var result = await edge.Ingest.IngestAsync(IngestCommand.For(payload, webhookId, body, edge.TicketStatuses.Canonical));

        if (result.Duplicate)
        {
            metrics.Received("duplicate");
            logger.LogInformation("Duplicate delivery of {Event} for call {CallId} (event {EventId})",
                payload.Event, callId, result.EventId);
            edge.Receipt(context, ReceiptResult.Duplicate, null, body.Length, payload, eventId: result.EventId);
            return TypedResults.Ok(new Answer("duplicate", callId, result.EventId));
        }
        metrics.Received("accepted");
        if (result.OutOfOrder)
        {
            metrics.OutOfOrder();
        }
        logger.LogDebug("Accepted {Event} for call {CallId} as event {EventId}, out of order: {OutOfOrder}",
            payload.Event, callId, result.EventId, result.OutOfOrder);
        return TypedResults.Accepted((string?)null, new Answer("accepted", callId, result.EventId));
    }

    private static async Task<Results<Accepted<Answer>, Ok<Answer>, ValidationProblem, ProblemHttpResult>> Refuse(
        HttpContext context, byte[] body, string reason, Dictionary<string, string[]> fields, WebhookEdge edge,
        WebhookPayload? payload, CancellationToken cancellationToken)
    {
        // Stored before answering: if the quarantine cannot be written, the caller gets a 503 and retries.
        var id = await edge.Quarantine.AddAsync(context, body, reason, fields, cancellationToken);
        edge.Metrics.Received("invalid");
        edge.Receipt(context, ReceiptResult.Invalid, reason, body.Length, payload, quarantineId: id);
        edge.Logger.LogWarning("Webhook refused ({Reason}), quarantined as {QuarantineId}; bad fields: {Fields}",
            reason, id, string.Join(", ", fields.Keys));
        return TypedResults.ValidationProblem(fields, title: "The webhook body is invalid.",
            detail: $"Quarantined as {id}; fix the fields named in 'errors'.",
            extensions: new Dictionary<string, object?> { ["quarantine_id"] = id, ["reason"] = reason });
    }

    private static ProblemHttpResult TooLarge(int max) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload too large",
            detail: $"The body must be at most {max} bytes.");
}

/// <summary>Everything the webhook endpoint uses (all singletons), injected as one.</summary>
internal sealed record WebhookEdge(
    IOptions<WebhookOptions> Options, WebhookAuthenticator Authenticator, IValidator<WebhookPayload> Validator,
    IngestWriter Ingest, QuarantineStore Quarantine, WebhookMetrics Metrics, TicketStatuses TicketStatuses,
    IDiagnosticContext Diagnostics, ILogger<WebhookLog> Logger, ReceiptWriter Receipts)
{
    /// <summary>
    /// A receipt for a request that did not become a new event. The call ID and event name come from the payload
    /// when it could be read (unvalidated for a refused body: capped like the columns they go to); a request refused
    /// before its body was trusted has only what the headers and the connection say.
    /// </summary>
    public void Receipt(HttpContext context, string result, string? reason, long bodyBytes, WebhookPayload? payload = null,
        long? quarantineId = null, long? eventId = null) =>
        Receipts.Record(new Events.Receipt(DateTime.UtcNow, result, reason, Cap(payload?.CallId, 128), Cap(payload?.Event, 64),
            Cap(WebhookHeaders.Id(context.Request.Headers), EventIdentity.MaxWebhookIdLength), bodyBytes,
            context.Connection.RemoteIpAddress?.ToString(), quarantineId, eventId));

    private static string? Cap(string? text, int max) => text is not null && text.Length > max ? text[..max] : text;
}

/// <summary>Log category for the webhook edge.</summary>
internal sealed class WebhookLog;

internal static class JsonContentType
{
    public static bool IsJson(string? contentType)
    {
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            return false;
        }
        var type = media.MediaType.Value ?? "";
        var json = type.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                   || (type.StartsWith("application/", StringComparison.OrdinalIgnoreCase)
                       && type.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
        var charset = Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(media.Charset).Value;
        return json && (charset is null || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));
    }
}
