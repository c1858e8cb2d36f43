using System.Net;
using System.Text.Json;
using Npgsql;
using WebhookReceiver.Calls;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Calls;

/// <summary>README "Call records": each timeline item carries its event's data; the timeline is the newest 500 events.</summary>
[Collection(ReceiverCollection.Name)]
public sealed class CallTimelineTests(ReceiverFactory app)
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Each_timeline_item_carries_its_events_data_and_null_when_the_event_had_none()
    {
        var callId = MiniVoiceEvents.NewCallId();
        await PostAsync(MiniVoiceEvents.WithoutData(MiniVoiceEvents.Event(callId, "call.ringing", "ringing", T0)));
        await PostAsync(MiniVoiceEvents.Event(callId, "call.hangup", "canceled", T0.AddSeconds(9),
            data: new { hangup_by = "caller", hangup_cause = "normal_clearing", duration = 9 }));

        var call = await app.GetJsonAsync($"/calls/{callId}");

        var events = call.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(["call.ringing", "call.hangup"], events.Select(e => e.GetProperty("event").GetString()));
        Assert.Equal(JsonValueKind.Null, events[0].GetProperty("data").ValueKind);
        var data = events[1].GetProperty("data");
        Assert.Equal("caller", data.GetProperty("hangup_by").GetString());
        Assert.Equal("normal_clearing", data.GetProperty("hangup_cause").GetString());
        Assert.Equal(9, data.GetProperty("duration").GetInt32());
        Assert.Equal(2, call.GetProperty("events_total").GetInt64());
        Assert.Equal(JsonValueKind.Null, call.GetProperty("older_events").ValueKind);
    }

    [Fact]
    public async Task A_call_with_more_than_500_events_shows_the_newest_500_oldest_first_and_says_how_many_exist()
    {
        var callId = MiniVoiceEvents.NewCallId();
        await PostManyAsync(app, callId, CallTimeline.Limit + 3);

        var call = await app.GetJsonAsync($"/calls/{callId}");

        var events = call.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(CallTimeline.Limit, events.Count);
        Assert.Equal(CallTimeline.Limit + 3, call.GetProperty("events_total").GetInt64());
        // The three oldest are the ones left out; the rest keep today's order (event time, oldest first).
        var times = events.Select(e => e.GetProperty("created_at").GetDateTimeOffset()).ToList();
        Assert.Equal(Enumerable.Range(3, CallTimeline.Limit).Select(i => T0.AddSeconds(i)), times);
        Assert.Equal(3, events[0].GetProperty("data").GetProperty("n").GetInt32());
        Assert.Equal($"/events?call_id={callId}&result=accepted", call.GetProperty("older_events").GetString());
        using var client = app.CreateClient();
        using var older = await client.GetAsync(new Uri(call.GetProperty("older_events").GetString()!, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, older.StatusCode);
    }

    [Fact]
    public async Task A_call_with_100000_events_reads_only_its_newest_500_from_the_database()
    {
        const int total = 100_000;
        await using var host = await Hosts.StartAsync(null, new Dictionary<string, string?>());
        var callId = MiniVoiceEvents.NewCallId();
        using (var first = await host.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.ringing", "ringing", T0.AddDays(-1))))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        }
        await FillAsync(host.ConnectionString, callId, total - 1);

        var call = await host.GetJsonAsync($"/calls/{callId}");

        Assert.Equal(total, call.GetProperty("events_total").GetInt64());
        var events = call.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(CallTimeline.Limit, events.Count);
        Assert.Equal(total - 1, events[^1].GetProperty("data").GetProperty("n").GetInt32());
        Assert.Equal(total - CallTimeline.Limit, events[0].GetProperty("data").GetProperty("n").GetInt32());

        // What the database does for it: an index range about the timeline's size, not the call's 100 000 rows
        // (an incremental sort by id may read a small batch past the 500th).
        var rowsRead = await RowsReadFromEventsAsync(host.ConnectionString, callId);
        Assert.True(rowsRead <= 2 * CallTimeline.Limit, $"the timeline query read {rowsRead} rows of webhook_events");
    }

    /// <summary>Posts events n = 0 .. count-1 of one call, a second apart in event time, several at once, in a shuffled order.</summary>
    internal static async Task PostManyAsync(ReceiverFactory app, string callId, int count)
    {
        var order = Enumerable.Range(0, count).ToArray();
        Random.Shared.Shuffle(order);
        await Parallel.ForEachAsync(order, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (n, _) =>
        {
            using var response = await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.progress", "in-progress", T0.AddSeconds(n),
                data: new { n }));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        });
    }

    private async Task PostAsync(string body)
    {
        using var response = await app.PostSignedAsync(body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>Events n = 1 .. count straight into the table (as years of traffic would have left them), then ANALYZE.</summary>
    private static async Task FillAsync(string connectionString, string callId, int count)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var fill = new NpgsqlCommand("""
            INSERT INTO webhook_events (identity, call_id, event, status, created_at, received_at, out_of_order, raw_body, body)
            SELECT 'fill:' || $1 || ':' || n, $1, 'call.progress', 'in-progress', $2 + n * interval '1 second', now(), false,
                   convert_to(b::text, 'UTF8'), b
            FROM generate_series(1, $3) AS n
            CROSS JOIN LATERAL (SELECT jsonb_build_object('event', 'call.progress', 'data', jsonb_build_object('n', n))) AS j(b)
            """, connection))
        {
            fill.Parameters.Add(new NpgsqlParameter<string> { TypedValue = callId });
            fill.Parameters.Add(new NpgsqlParameter<DateTime>
            {
                TypedValue = T0.UtcDateTime, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz,
            });
            fill.Parameters.Add(new NpgsqlParameter<int> { TypedValue = count });
            await fill.ExecuteNonQueryAsync();
        }
        await using var analyze = new NpgsqlCommand("ANALYZE webhook_events", connection);
        await analyze.ExecuteNonQueryAsync();
    }

    /// <summary>EXPLAIN ANALYZE of the service's own timeline statement: the most rows any webhook_events node produced.</summary>
    private static async Task<double> RowsReadFromEventsAsync(string connectionString, string callId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var explain = new NpgsqlCommand("EXPLAIN (ANALYZE, FORMAT JSON) " + CallTimeline.NewestSql, connection);
        explain.Parameters.AddRange(CallTimeline.Parameters(callId));
        var plan = JsonDocument.Parse((string)(await explain.ExecuteScalarAsync())!).RootElement[0].GetProperty("Plan");
        return MaxRowsFromEvents(plan);
    }

    private static double MaxRowsFromEvents(JsonElement node)
    {
        var own = node.TryGetProperty("Relation Name", out var relation) && relation.GetString() == "webhook_events"
            ? node.GetProperty("Actual Rows").GetDouble()
            : 0;
        var children = node.TryGetProperty("Plans", out var plans) ? plans.EnumerateArray().Select(MaxRowsFromEvents) : [];
        return children.Append(own).Max();
    }
}
