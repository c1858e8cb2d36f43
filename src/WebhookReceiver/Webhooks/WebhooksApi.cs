using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using WebhookReceiver.ApiDocs;
using WebhookReceiver.Events;

namespace WebhookReceiver.Webhooks;

internal static class WebhooksApi
{
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
        builder.Services.AddSingleton<WebhookIngest>();
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

        var authFailure = edge.Authenticator.Authenticate(request.Headers, body, out var method);
        if (authFailure is not null)
        {
            metrics.AuthFailed(authFailure);
            edge.Receipt(context, ReceiptResult.Unauthorized, authFailure, body.Length);
            logger.LogWarning("Webhook refused: authentication failed ({Reason}) from {RemoteAddress}",
                authFailure, context.Connection.RemoteIpAddress);
            // No detail on which check failed: that would help a forger.
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
        }

        // Not built at all when not kept; the quarantine keeps them whatever the setting (a re-ingest needs the webhook-id).
        var kept = options.KeepRequestHeaders ? KeptHeaders.Json(request.Headers, method) : null;
        try
        {
            return await edge.Ingest.IngestAsync(body, request.Headers, kept) switch
            {
                IngestOutcome.Stored stored => Stored(context, stored, body.Length, edge),
                IngestOutcome.Invalid invalid =>
                    await Refuse(context, body, kept ?? KeptHeaders.Json(request.Headers, method), invalid, edge, cancellationToken),
                IngestOutcome.Unavailable unavailable => Unavailable(context, unavailable.Error, edge),
                _ => throw new InvalidOperationException("unknown ingest outcome"),
            };
        }
        catch (Exception ex) when (WebhookIngest.IsUnavailable(ex))
        {
            // The quarantine could not be written: not stored, so the sender must retry.
            return Unavailable(context, ex, edge);
        }
    }

    private static Results<Accepted<Answer>, Ok<Answer>, ValidationProblem, ProblemHttpResult> Stored(
        HttpContext context, IngestOutcome.Stored stored, int bodyBytes, WebhookEdge edge)
    {
        var (metrics, logger) = (edge.Metrics, edge.Logger);
        var (payload, result) = (stored.Payload, stored.Result);
        var callId = payload.CallId!;
        edge.Diagnostics.Set("CallId", callId);
        if (result.Duplicate)
        {
            metrics.Received("duplicate");
            logger.LogInformation("Duplicate delivery of {Event} for call {CallId} (event {EventId})",
                payload.Event, callId, result.EventId);
            edge.Receipt(context, ReceiptResult.Duplicate, null, bodyBytes, payload, eventId: result.EventId);
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

    private static ProblemHttpResult Unavailable(HttpContext context, Exception error, WebhookEdge edge)
    {
        edge.Metrics.Received("unavailable");
        edge.Logger.LogError("Webhook not stored, database unavailable: {Error}", error.Message);
        context.Response.Headers.RetryAfter =
            edge.Options.Value.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable",
            detail: "The event was not stored; retry later.");
    }

    private static async Task<Results<Accepted<Answer>, Ok<Answer>, ValidationProblem, ProblemHttpResult>> Refuse(
        HttpContext context, byte[] body, string keptHeaders, IngestOutcome.Invalid invalid, WebhookEdge edge,
        CancellationToken cancellationToken)
    {
        var (reason, fields, payload) = (invalid.Reason, invalid.Fields, invalid.Payload);
        // Stored before answering: if the quarantine cannot be written, the caller gets a 503 and retries.
        var id = await edge.Quarantine.AddAsync(context, body, keptHeaders, reason, fields, cancellationToken);
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

