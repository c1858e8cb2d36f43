using System.Globalization;
using System.Text.Json;

namespace WebhookReceiver.OperatorConsole;

// Razor components are always public classes, so what they render is described by these public records
// (built from the internal API types in ConsoleEndpoints). Everything here is shown as text: Razor encodes it.

public sealed record ConsoleFilter(string Name, string Label, string? Value, string? Placeholder = null);

public sealed record CallListModel(IReadOnlyList<ConsoleFilter> Filters, IReadOnlyList<CallRow> Calls, string? NextPage,
    IReadOnlyDictionary<string, string[]> Errors);

public sealed record CallRow(string Id, string? CustomerId, string? Direction, string? From, string? To, string? Status, bool IsFinal,
    DateTime? FirstEventAt, DateTime? LastEventAt)
{
    /// <summary>Set while the call is marked stale (no final status in time; README "Stale calls").</summary>
    public DateTime? StaleSince { get; init; }

    public string Href => ConsolePaths.Call(Id);
}

public sealed record CallPageModel(
    string Id, string? CustomerId, string? ApplicationId, string? Direction, string? From, string? To, string? Status, bool IsFinal,
    DateTime? FirstEventAt, DateTime? LastEventAt, string? FinalStatus,
    IReadOnlyList<KeyValuePair<string, string?>> Variables, IReadOnlyList<JsonElement> Recordings, IReadOnlyList<JsonElement> Transcripts,
    IReadOnlyList<JsonElement> AiResults, JsonElement? Billing, IReadOnlyList<TimelineRow> Timeline, long EventsTotal,
    IReadOnlyList<ActionRow> Actions)
{
    /// <summary>What the operator's last button did (ConsoleNotice), shown at the top.</summary>
    public string? Notice { get; init; }

    /// <summary>Set while the call is marked stale (no final status in time; README "Stale calls").</summary>
    public DateTime? StaleSince { get; init; }

    /// <summary>The timeline holds only the newest events: the rest are listed on the events page.</summary>
    public bool TimelineIsCut => EventsTotal > Timeline.Count;

    public string EventsHref => ConsolePaths.CallEvents(Id);
}

/// <summary>Data: the event's data object as MiniVoice sent it, null when the event had none.</summary>
public sealed record TimelineRow(long EventId, string Event, string? Status, DateTime CreatedAt, DateTime ReceivedAt, bool OutOfOrder,
    string? WebhookId, JsonElement? Data);

public sealed record ActionRow(long Id, string Action, string State, int Attempts, string? LastError, string? LastErrorKind,
    int? LastHttpStatus, string? JobId, DateTime UpdatedAt, DateTime? CompletedAt)
{
    public string? JobHref => JobId is null ? null : ConsolePaths.Job(JobId);
}

public sealed record FailuresModel(
    IReadOnlyList<ConsoleFilter> Filters, IReadOnlyList<FailureRow> Groups, IReadOnlyDictionary<string, string[]> Errors)
{
    public string? Notice { get; init; }
}

public sealed record FailureRow(string Action, string? ErrorKind, int? HttpStatus, long Count, long Failed, long Retrying,
    DateTime FirstSeen, DateTime LastSeen, IReadOnlyList<FailureSampleRow> Samples);

public sealed record FailureSampleRow(long ActionId, string CallId, string State, int Attempts, string? LastError, string? JobId)
{
    public string CallHref => ConsolePaths.Call(CallId);
    public string? JobHref => JobId is null ? null : ConsolePaths.Job(JobId);
}

public sealed record DestinationsModel(IReadOnlyList<DestinationRow> Destinations)
{
    public string? Notice { get; init; }
}

public sealed record DestinationRow(string Name, string Action, bool Configured, string State, string Breaker, bool Paused,
    string? PausedBy, DateTime? PausedAt, DateTime? OpenUntil, DateTime? HoldUntil, int ConsecutiveFailures, long InFlight,
    int MaxConcurrency, double RatePerSecond, long Pending, long Due, double OldestPendingSeconds, string? LastError,
    DateTime? LastErrorAt);

public sealed record EventsModel(IReadOnlyList<ConsoleFilter> Filters, string? Result, IReadOnlyList<string> Results,
    IReadOnlyList<EventRow> Items, IReadOnlyDictionary<string, long>? Counts, string? NextPage,
    IReadOnlyDictionary<string, string[]> Errors)
{
    public string? Notice { get; init; }

    /// <summary>Where the counts start (the last day when no since was given).</summary>
    public DateTime? CountsSince { get; init; }
}

public sealed record EventRow(string Result, DateTime ReceivedAt, string? CallId, string? Event, string? WebhookId, string? Reason,
    long BodyBytes, long? EventId, long? ReceiptId, long? QuarantineId, string? RemoteAddress, DateTime? CreatedAt, string? Status,
    bool? OutOfOrder, string? Body, IReadOnlyList<KeyValuePair<string, string>>? RequestHeaders = null)
{
    public string? CallHref => CallId is null || Result is "invalid" or "unauthorized" or "too_large" ? null : ConsolePaths.Call(CallId);
}

public static class ConsolePaths
{
    public const string Root = "/console";
    public static string Call(string id) => "/console/calls/" + Uri.EscapeDataString(id);
    public static string Job(string id) => "/hangfire/jobs/details/" + Uri.EscapeDataString(id);
    public static string CallEvents(string callId) => Calls.CallTimeline.OlderEventsPath(Root, callId);
}

public static class ConsoleText
{
    public static string Time(DateTime? at) => at is { } t
        ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture) + " UTC"
        : "—";

    /// <summary>A wait as a person reads it: 42 s, 3 min 5 s, 2 h 10 min.</summary>
    public static string Duration(double seconds) => TimeSpan.FromSeconds(Math.Max(0, seconds)) switch
    {
        var t when t.TotalMinutes < 1 => $"{t.TotalSeconds:0} s",
        var t when t.TotalHours < 1 => $"{(int)t.TotalMinutes} min {t.Seconds} s",
        var t => $"{(int)t.TotalHours} h {t.Minutes} min",
    };

    /// <summary>A JSON value as a person reads it: strings bare, everything else compact JSON.</summary>
    public static string Json(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString() ?? "",
        JsonValueKind.Null => "null",
        _ => value.GetRawText(),
    };

    /// <summary>Only plain web links become links: a javascript: or data: URL from a payload stays text.</summary>
    public static bool IsWebLink(string? text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);
}
