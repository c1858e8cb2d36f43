using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using WebhookReceiver.Events;

namespace WebhookReceiver.Tests.Events;

public sealed class EventSearchQueryTests
{
    private static QueryCollection Query(params (string Key, string Value)[] pairs) =>
        new(pairs.ToDictionary(p => p.Key, p => new StringValues(p.Value)));

    private static EventSearchQuery Parsed(params (string Key, string Value)[] pairs)
    {
        Assert.True(EventSearchQuery.TryParse(Query(pairs), out var query, out var errors), string.Join(", ", errors.Keys));
        return query;
    }

    [Fact]
    public void No_parameters_search_everything_newest_first_50_at_a_time()
    {
        var q = Parsed();
        Assert.Equal(50, q.Limit);
        Assert.True(q.SearchesEvents);
        Assert.True(q.SearchesReceipts);
        Assert.Null(q.After);
    }

    [Theory]
    [InlineData("accepted", true, false)]
    [InlineData("duplicate", false, true)]
    [InlineData("unauthorized", false, true)]
    public void The_result_picks_the_table(string result, bool events, bool receipts)
    {
        var q = Parsed(("result", result));
        Assert.Equal(events, q.SearchesEvents);
        Assert.Equal(receipts, q.SearchesReceipts);
    }

    [Fact]
    public void A_json_fragment_searches_only_accepted_events_the_only_ones_with_bodies()
    {
        var q = Parsed(("json", """{"call":{"status":"busy"}}"""));
        Assert.True(q.SearchesEvents);
        Assert.False(q.SearchesReceipts);
    }

    [Theory]
    [InlineData("{", "is not valid JSON")]
    [InlineData("\"busy\"", "must be a JSON object")]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("""{"a":"\u0000"}""", "must not hold a \\u0000")]
    [InlineData("""{"a":{"b\u0000":1}}""", "must not hold a \\u0000")]
    [InlineData("""{"a":"\ud800"}""", "not valid Unicode")] // JSON escapes: a raw string keeps them as text
    public void A_json_that_is_not_an_object_is_refused_naming_json(string json, string message)
    {
        Assert.False(EventSearchQuery.TryParse(Query(("json", json)), out _, out var errors));
        Assert.Contains(message, Assert.Single(errors["json"]), StringComparison.Ordinal);
    }

    [Fact]
    public void Counts_without_since_cover_the_24_hours_before_until_or_now()
    {
        var now = new DateTime(2026, 5, 29, 12, 0, 0, DateTimeKind.Utc);
        Assert.Equal(now.AddHours(-24), Parsed().CountWindow(now).Since);
        Assert.Equal(now.AddDays(-3).AddHours(-24), Parsed(("until", "2026-05-26T12:00:00Z")).CountWindow(now).Since);
        Assert.Equal(now.AddDays(-30), Parsed(("since", "2026-04-29T12:00:00Z")).CountWindow(now).Since);
        // Nothing before the first day to start from: the window starts at the beginning of time, not at an exception.
        Assert.Equal(DateTime.MinValue, Parsed(("until", "0001-01-01T01:00:00Z")).CountWindow(now).Since);
    }

    [Fact]
    public void A_cursor_survives_its_round_trip_and_forgeries_are_refused()
    {
        var cursor = new EventCursor(new DateTime(2026, 5, 29, 12, 0, 0, 123, DateTimeKind.Utc).AddTicks(4560), 'r', 987654321);
        Assert.Equal(cursor, EventCursor.Decode(cursor.Encode()));
        Assert.Equal(cursor, Parsed(("cursor", cursor.Encode())).After);

        var forgeries = new[]
        {
            "x", "bm90LWEtY3Vyc29y", Convert.ToBase64String("1|x|2"u8.ToArray()), Convert.ToBase64String("-1|e|2"u8.ToArray()),
        };
        foreach (var forged in forgeries)
        {
            Assert.Null(EventCursor.Decode(forged));
        }
    }

    [Theory]
    [InlineData("limit", "0")]
    [InlineData("limit", "501")]
    [InlineData("result", "Accepted ")]
    [InlineData("since", "2026-05-29")]
    public void Out_of_range_values_are_refused_by_name(string name, string value)
    {
        Assert.False(EventSearchQuery.TryParse(Query((name, value)), out _, out var errors));
        Assert.True(errors.ContainsKey(name));
    }
}
