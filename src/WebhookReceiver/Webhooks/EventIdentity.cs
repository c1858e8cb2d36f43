namespace WebhookReceiver.Webhooks;

/// <summary>
/// What makes two deliveries the same event: the sender's <c>webhook-id</c> when it sends one, else
/// (call.id, event, created_at) with the time normalised to UTC so "Z" and "+00:00" are the same instant.
/// </summary>
internal static class EventIdentity
{
    public const int MaxWebhookIdLength = 256;

    public static string For(string? webhookId, string callId, string eventName, DateTimeOffset createdAt) =>
        webhookId is { Length: > 0 }
            ? "id:" + webhookId
            : $"evt:{callId}\n{eventName}\n{createdAt.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffffffZ}";
}
