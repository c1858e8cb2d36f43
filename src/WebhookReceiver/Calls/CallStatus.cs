namespace WebhookReceiver.Calls;

/// <summary>
/// MiniVoice statuses compare case-insensitively with '_' and '-' alike. Known statuses are stored in
/// their canonical form; unknown ones are kept exactly as sent (MiniVoice may add statuses).
/// </summary>
internal static class CallStatus
{
    public const string Dialing = "dialing";

    private static readonly HashSet<string> Final = ["completed", "failed", "busy", "no-answer", "canceled"];

    private static readonly HashSet<string> Known =
        ["queued", "initiated", "dialing", "ringing", "answered", "in-progress", .. Final];

    public static string Canonical(string status) => status.Trim().ToLowerInvariant().Replace('_', '-');

    public static string? Normalize(string? status)
    {
        if (string.IsNullOrWhiteSpace(status))
        {
            return null;
        }
        var canonical = Canonical(status);
        return Known.Contains(canonical) ? canonical : status;
    }

    public static bool IsFinal(string? status) => status is not null && Final.Contains(Canonical(status));
}
