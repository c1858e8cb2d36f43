using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
using WebhookReceiver.Calls;
using WebhookReceiver.Data;

namespace WebhookReceiver.Events;

/// <summary>
/// GET /events parameters, parsed and checked. The cursor is the last item's (received_at, source, id): accepted
/// events (source 'e', webhook_events) and receipts (source 'r', webhook_receipts) share one newest-first order.
/// </summary>
internal sealed record EventSearchQuery(
    string? CallId, string? Event, string? Result, DateTime? Since, DateTime? Until, string? Json, int Limit, EventCursor? After)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    /// <summary>Counts without <c>since</c> cover this much time before <c>until</c> (or now), not every row ever kept.</summary>
    public static readonly TimeSpan DefaultCountWindow = TimeSpan.FromHours(24);

    public bool SearchesEvents => Result is null or ReceiptResult.Accepted;

    /// <summary>The query counts run: <c>since</c> as asked, else <see cref="DefaultCountWindow"/> before the end.</summary>
    public EventSearchQuery CountWindow(DateTime now)
    {
        if (Since is not null)
        {
            return this;
        }
        var end = Until ?? now;
        return this with { Since = end.Ticks > DefaultCountWindow.Ticks ? end - DefaultCountWindow : DateTime.MinValue };
    }
    public bool SearchesReceipts => Result is not ReceiptResult.Accepted && Json is null;

    public static bool TryParse(IQueryCollection q, out EventSearchQuery query, out Dictionary<string, string[]> errors)
    {
        errors = [];
        var limit = DefaultLimit;
        if (q.TryGetValue("limit", out var l)
            && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            errors["limit"] = [$"must be a whole number from 1 to {MaxLimit}"];
        }
        var since = CallListQuery.Time(q, "since", errors);
        var until = CallListQuery.Time(q, "until", errors);
        var result = Text(q, "result");
        if (result is not null && !ReceiptResult.All.Contains(result))
        {
            errors["result"] = [$"must be one of {string.Join(", ", ReceiptResult.All)}"];
        }
        var json = Text(q, "json");
        if (json is not null)
        {
            if (JsonError(json) is { } error)
            {
                errors["json"] = [error];
            }
            else if (result is not null and not ReceiptResult.Accepted)
            {
                errors["json"] = ["matches stored bodies, and only accepted events keep theirs: leave out result or use result=accepted"];
            }
        }
        EventCursor? after = null;
        if (Text(q, "cursor") is { } c)
        {
            after = EventCursor.Decode(c);
            if (after is null)
            {
                errors["cursor"] = ["is not a cursor this service issued"];
            }
        }
        PostgresText.CheckQuery(q, errors, "call_id", "event");
        query = new EventSearchQuery(Text(q, "call_id"), Text(q, "event"), result, since, until, json, limit, after);
        return errors.Count == 0;
    }

    private static string? Text(IQueryCollection q, string name) => q[name].ToString() is { Length: > 0 } v ? v : null;

    private static string? JsonError(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind != JsonValueKind.Object ? "must be a JSON object, e.g. {\"call\":{\"status\":\"busy\"}}"
                : !Storable(document.RootElement) ? "must not hold a \\u0000 (NUL) in any name or string: PostgreSQL cannot store it"
                : null;
        }
        catch (JsonException ex)
        {
            return $"is not valid JSON: {ex.Message}";
        }
        catch (InvalidOperationException)
        {
            // A string that cannot be read as text at all, such as a lone "\ud800" escape.
            return "holds a string that is not valid Unicode";
        }
    }

    /// <summary>Every name and string in the JSON passes <see cref="PostgresText"/>'s rule (jsonb refuses \u0000).</summary>
    private static bool Storable(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().All(p => PostgresText.CanStore(p.Name) && Storable(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().All(Storable),
        JsonValueKind.String => PostgresText.CanStore(element.GetString()),
        _ => true,
    };
}

/// <summary>Where a page ended. Source: 'e' for webhook_events, 'r' for webhook_receipts; at one instant 'r' rows come first.</summary>
internal sealed record EventCursor(DateTime At, char Source, long Id)
{
    public string Encode() => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
        string.Create(CultureInfo.InvariantCulture, $"{At.Ticks}|{Source}|{Id}")));

    public static EventCursor? Decode(string cursor)
    {
        try
        {
            var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor)).Split('|');
            return parts is [var ticks, ['e' or 'r'] source, var id]
                   && long.TryParse(ticks, NumberStyles.None, CultureInfo.InvariantCulture, out var t) && t <= DateTime.MaxValue.Ticks
                   && long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var i)
                ? new EventCursor(new DateTime(t, DateTimeKind.Utc), source[0], i)
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
