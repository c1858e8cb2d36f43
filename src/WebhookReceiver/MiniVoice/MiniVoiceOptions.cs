using System.ComponentModel.DataAnnotations;

namespace WebhookReceiver.MiniVoice;

internal sealed class MiniVoiceOptions
{
    public const string SectionName = "MiniVoice";

    /// <summary>e.g. https://api.minivoice.eu — POST /calls is refused with 503 until it is set.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>Sent as a bearer token; never logged, never echoed.</summary>
    public string? ApiKey { get; set; }

    [Range(1, 120)]
    public int TimeoutSeconds { get; set; } = 10;

    public bool IsConfigured => Uri.TryCreate(BaseUrl, UriKind.Absolute, out _) && !string.IsNullOrEmpty(ApiKey);
}
