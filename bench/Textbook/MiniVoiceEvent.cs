namespace Textbook;

public sealed class MiniVoiceEvent
{
    public string? Event { get; set; }
    public DateTimeOffset? CreatedAt { get; set; }
    public MiniVoiceCall? Call { get; set; }
    public Dictionary<string, string?>? Variables { get; set; }
}

public sealed class MiniVoiceCall
{
    public string? Id { get; set; }
    public string? CustomerId { get; set; }
    public string? ApplicationId { get; set; }
    public string? Status { get; set; }
    public string? Direction { get; set; }
    public string? From { get; set; }
    public string? To { get; set; }
}
