using System.Text.Json;
using Npgsql;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Events;

/// <summary>GET /events/counts reads one window of arrival times: the one asked for, else the last 24 hours.</summary>
[Collection(ReceiverCollection.Name)]
public sealed class EventCountsTests(ReceiverFactory app)
{
    [Fact]
    public async Task Without_since_the_counts_cover_the_last_24_hours_and_the_answer_says_so()
    {
        var callId = await CallWithOldAndNewRequestsAsync();
        var before = DateTime.UtcNow;

        var counts = await app.GetJsonAsync($"/events/counts?call_id={callId}");

        // Only the requests of the last day: the ones received two days ago are outside the default window.
        Assert.Equal(1, counts.GetProperty("accepted").GetInt64());
        Assert.Equal(1, counts.GetProperty("duplicate").GetInt64());
        Assert.Equal(0, counts.GetProperty("invalid").GetInt64());
        Assert.Equal(0, counts.GetProperty("unauthorized").GetInt64());
        Assert.Equal(0, counts.GetProperty("too_large").GetInt64());
        Assert.True(counts.GetProperty("since_defaulted").GetBoolean());
        var since = counts.GetProperty("since").GetDateTime().ToUniversalTime();
        Assert.InRange(since, before.AddHours(-24).AddMinutes(-1), DateTime.UtcNow.AddHours(-24).AddMinutes(1));
        Assert.Equal(JsonValueKind.Null, counts.GetProperty("until").ValueKind);
    }

    [Fact]
    public async Task With_since_the_counts_cover_what_was_asked_and_echo_it()
    {
        var callId = await CallWithOldAndNewRequestsAsync();
        var since = DateTime.UtcNow.AddDays(-3);

        var counts = await app.GetJsonAsync($"/events/counts?call_id={callId}&since={Rfc3339(since)}");

        Assert.Equal(2, counts.GetProperty("accepted").GetInt64());
        Assert.Equal(1, counts.GetProperty("duplicate").GetInt64());
        Assert.Equal(1, counts.GetProperty("invalid").GetInt64());
        Assert.False(counts.GetProperty("since_defaulted").GetBoolean());
        Assert.Equal(Rfc3339(since), Rfc3339(counts.GetProperty("since").GetDateTime().ToUniversalTime()));
    }

    [Fact]
    public async Task With_only_until_the_default_window_is_the_24_hours_before_it()
    {
        var callId = await CallWithOldAndNewRequestsAsync();
        var until = DateTime.UtcNow.AddHours(-36);

        var counts = await app.GetJsonAsync($"/events/counts?call_id={callId}&until={Rfc3339(until)}");

        // The two-day-old requests, not today's.
        Assert.Equal(1, counts.GetProperty("accepted").GetInt64());
        Assert.Equal(0, counts.GetProperty("duplicate").GetInt64());
        Assert.Equal(1, counts.GetProperty("invalid").GetInt64());
        Assert.True(counts.GetProperty("since_defaulted").GetBoolean());
        Assert.Equal(Rfc3339(until), Rfc3339(counts.GetProperty("until").GetDateTime().ToUniversalTime()));
        Assert.Equal(Rfc3339(until.AddHours(-24)), Rfc3339(counts.GetProperty("since").GetDateTime().ToUniversalTime()));
    }

    /// <summary>
    /// A call with an accepted event and its duplicate received now, and an accepted event and an invalid request
    /// received two days ago (written straight to the tables: the service stamps arrivals with the present).
    /// </summary>
    private async Task<string> CallWithOldAndNewRequestsAsync()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var body = MiniVoiceEvents.Event(callId, "call.completed", "completed", DateTimeOffset.UtcNow);
        var webhookId = "msg_" + Guid.NewGuid().ToString("N");
        using (var accepted = await app.PostSignedAsync(body, webhookId))
        {
            Assert.Equal(System.Net.HttpStatusCode.Accepted, accepted.StatusCode);
        }
        using (var duplicate = await app.PostSignedAsync(body, webhookId))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, duplicate.StatusCode);
        }
        await Eventually.WaitAsync(async () => await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM webhook_receipts WHERE call_id = $1", callId) == 1, TimeSpan.FromSeconds(10), "the duplicate's receipt");

        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var old = new NpgsqlCommand("""
            INSERT INTO webhook_events (identity, call_id, event, created_at, received_at, out_of_order, raw_body, body)
            VALUES ('old:' || @call, @call, 'call.ringing', now() - interval '2 days', now() - interval '2 days', false,
                    '\x7b7d'::bytea, '{}');
            INSERT INTO webhook_receipts (received_at, result, reason, call_id, body_bytes)
            VALUES (now() - interval '2 days', 'invalid', 'validation_failed', @call, 10);
            """, connection);
        old.Parameters.AddWithValue("call", callId);
        await old.ExecuteNonQueryAsync();
        return callId;
    }

    private static string Rfc3339(DateTime at) => at.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
}
