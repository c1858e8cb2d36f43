using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using WebhookReceiver.Calls;

namespace WebhookReceiver.Tests.Calls;

public sealed class CallListQueryTests
{
    private static QueryCollection Query(params (string Key, string Value)[] pairs) =>
        new(pairs.ToDictionary(p => p.Key, p => new StringValues(p.Value)));

    private static CallListQuery Parsed(params (string Key, string Value)[] pairs)
    {
        Assert.True(CallListQuery.TryParse(Query(pairs), out var query, out var errors), string.Join(", ", errors.Keys));
        Assert.Empty(errors);
        return query;
    }

    private static Dictionary<string, string[]> Refused(params (string Key, string Value)[] pairs)
    {
        Assert.False(CallListQuery.TryParse(Query(pairs), out _, out var errors));
        return errors;
    }

    [Fact]
    public void Empty_query_has_default_limit_50_and_no_filters()
    {
        var query = Parsed();

        Assert.Equal(50, query.Limit);
        Assert.Null(query.CustomerId);
        Assert.Null(query.Status);
        Assert.Null(query.Since);
        Assert.Null(query.Until);
        Assert.Null(query.After);
    }

    [Theory]
    [InlineData("1", 1)]
    [InlineData("500", 500)]
    public void Limit_from_1_to_500_is_accepted(string text, int limit)
    {
        Assert.Equal(limit, Parsed(("limit", text)).Limit);
    }

    [Theory]
    [InlineData("501")]
    [InlineData("0")]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("+5")]
    [InlineData("")]
    [InlineData("10.5")]
    [InlineData("99999999999")]
    public void Limit_outside_1_to_500_or_not_a_whole_number_is_refused_as_limit(string text)
    {
        var errors = Refused(("limit", text));

        Assert.Equal(["limit"], errors.Keys);
    }

    [Fact]
    public void Since_and_until_in_rfc_3339_are_parsed_to_utc()
    {
        var query = Parsed(("since", "2026-05-29T14:10:00+02:00"), ("until", "2026-05-30T00:00:00.5Z"));

        Assert.Equal(new DateTime(2026, 5, 29, 12, 10, 0, DateTimeKind.Utc), query.Since);
        Assert.Equal(DateTimeKind.Utc, query.Since!.Value.Kind);
        Assert.Equal(new DateTime(2026, 5, 30, 0, 0, 0, 500, DateTimeKind.Utc), query.Until);
        Assert.Equal(DateTimeKind.Utc, query.Until!.Value.Kind);
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("2026-05-29")]
    [InlineData("2026-05-29T12:10:00")]
    public void Since_that_is_not_rfc_3339_is_refused_as_since(string text)
    {
        Assert.Equal(["since"], Refused(("since", text)).Keys);
    }

    [Fact]
    public void Until_that_is_not_rfc_3339_is_refused_as_until()
    {
        Assert.Equal(["until"], Refused(("until", "tomorrow")).Keys);
    }

    [Theory]
    [InlineData("call_123")]
    [InlineData("call|with|bars")]
    [InlineData("")]
    public void Cursor_made_by_encode_cursor_round_trips(string id)
    {
        var at = new DateTime(2026, 5, 29, 12, 10, 0, 123, DateTimeKind.Utc).AddTicks(4567);

        var after = Parsed(("cursor", CallListQuery.EncodeCursor(at, id))).After;

        Assert.NotNull(after);
        Assert.Equal(at.Ticks, after.Value.At.Ticks);
        Assert.Equal(DateTimeKind.Utc, after.Value.At.Kind);
        Assert.Equal(id, after.Value.Id);
    }

    [Theory]
    [InlineData("garbage!!")]
    [InlineData("%%%")]
    [InlineData("aGVsbG8")] // "hello": no separator
    [InlineData("fGNhbGxfMTIz")] // "|call_123": no ticks
    [InlineData("LTF8Y2FsbF8xMjM")] // "-1|call_123": negative ticks
    [InlineData("eHl6fGNhbGxfMTIz")] // "xyz|call_123": ticks not a number
    [InlineData("OTk5OTk5OTk5OTk5OTk5OTk5OXxj")] // "9999999999999999999|c": beyond DateTime.MaxValue
    public void Garbage_cursor_is_refused_as_cursor(string cursor)
    {
        Assert.Equal(["cursor"], Refused(("cursor", cursor)).Keys);
    }

    [Fact]
    public void Empty_cursor_means_first_page()
    {
        Assert.Null(Parsed(("cursor", "")).After);
    }

    [Theory]
    [InlineData("no_answer", "no-answer")]
    [InlineData("COMPLETED", "completed")]
    [InlineData("On_Hold", "On_Hold")]
    public void Status_filter_is_normalised(string sent, string expected)
    {
        Assert.Equal(expected, Parsed(("status", sent)).Status);
    }

    [Fact]
    public void Customer_id_filter_is_kept()
    {
        Assert.Equal("cust_123", Parsed(("customer_id", "cust_123")).CustomerId);
    }

    [Fact]
    public void Every_bad_parameter_is_named_at_once()
    {
        var errors = Refused(("limit", "0"), ("since", "x"), ("until", "y"), ("cursor", "garbage!!"));

        Assert.Equal(["cursor", "limit", "since", "until"], errors.Keys.Order(StringComparer.Ordinal));
    }
}
