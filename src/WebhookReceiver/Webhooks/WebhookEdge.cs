using Microsoft.Extensions.Options;
using IDiagnosticContext = Serilog.IDiagnosticContext;
using WebhookReceiver.Events;

namespace WebhookReceiver.Webhooks;

/// <summary>Everything the webhook endpoint uses (all singletons), injected as one.</summary>
internal sealed record WebhookEdge(
    IOptions<WebhookOptions> Options, WebhookAuthenticator Authenticator, WebhookIngest Ingest,
    QuarantineStore Quarantine, WebhookMetrics Metrics,
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

