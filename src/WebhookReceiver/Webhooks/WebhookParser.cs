using System.Text.Json;
using FluentValidation;

namespace WebhookReceiver.Webhooks;

/// <summary>A body's way from bytes to a validated payload, or to the reasons it is refused (named per field).</summary>
internal static class WebhookParser
{
    private static readonly JsonDocumentOptions JsonOptions = new() { AllowDuplicateProperties = false, MaxDepth = 64 };
    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];

    /// <summary>Parses and validates a body (also an operator's re-ingest of a quarantined one).</summary>
    public static (WebhookPayload? Payload, (string Reason, Dictionary<string, string[]> Fields)? Errors) Parse(
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

}
