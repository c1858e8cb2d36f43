namespace WebhookReceiver.Webhooks;

/// <summary>What the webhook endpoint accepts as a body type: JSON (application/json or application/*+json) in UTF-8.</summary>
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
