namespace WebhookReceiver.Webhooks;

/// <summary>The fields of a MiniVoice event the receiver reads; everything else stays in the raw body.</summary>
internal sealed record WebhookPayload
{
    public string? Event { get; init; }
    public string? CreatedAtText { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public bool HasCall { get; init; }
    public string? CallId { get; init; }
    public string? CustomerId { get; init; }
    public string? ApplicationId { get; init; }
    public string? Status { get; init; }
    public string? Direction { get; init; }
    public string? From { get; init; }
    public string? To { get; init; }
    public IReadOnlyList<KeyValuePair<string, string?>> Variables { get; init; } = [];

    /// <summary>JSON type errors found while reading (a number where a string belongs, ...), reported with the rules.</summary>
    public IReadOnlyList<FieldError> ShapeErrors { get; init; } = [];
}

internal sealed record FieldError(string Field, string Message);
