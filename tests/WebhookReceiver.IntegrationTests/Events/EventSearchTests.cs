using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Npgsql;
using WebhookReceiver.Events;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Events;

[Collection(ReceiverCollection.Name)]
public sealed class EventSearchTests(ReceiverFactory app)
{
    private static readonly DateTimeOffset T0 = new(2026, 7, 1, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Accepted_events_are_found_by_call_event_and_json_containment()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var order = "ord_" + Guid.NewGuid().ToString("N")[..8];
        using (await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.ringing", "ringing", T0))) { }
        using (await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.answered", "in-progress", T0.AddSeconds(5), variables: new { order }))) { }
        using (await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0.AddSeconds(60), variables: new { order = "other" }))) { }

        var all = await app.GetJsonAsync($"/events?call_id={callId}");
        Assert.Equal(["call.completed", "call.answered", "call.ringing"], Items(all).Select(i => i.GetProperty("event").GetString()));
        Assert.All(Items(all), i => Assert.Equal("accepted", i.GetProperty("result").GetString()));
        Assert.Equal(callId, Items(all)[0].GetProperty("body").GetProperty("call").GetProperty("id").GetString());

        var byEvent = await app.GetJsonAsync($"/events?call_id={callId}&event=call.ringing");
        Assert.Equal(["call.ringing"], Items(byEvent).Select(i => i.GetProperty("event").GetString()));

        // Containment, not equality: a fragment of the body, nested.
        var json = Uri.EscapeDataString($$$"""{"variables":{"order":"{{{order}}}"}}""");
        var byJson = await app.GetJsonAsync($"/events?json={json}");
        var hit = Assert.Single(Items(byJson));
        Assert.Equal("call.answered", hit.GetProperty("event").GetString());
        Assert.Equal(callId, hit.GetProperty("call_id").GetString());

        var nested = Uri.EscapeDataString($$$"""{"call":{"id":"{{{callId}}}","status":"completed"}}""");
        Assert.Equal(["call.completed"], Items(await app.GetJsonAsync($"/events?json={nested}")).Select(i => i.GetProperty("event").GetString()));
    }

    [Fact]
    public async Task Refused_and_duplicate_requests_are_findable_without_storing_unauthenticated_bodies()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var body = MiniVoiceEvents.Event(callId, "call.completed", "completed", T0);
        var webhookId = "msg_" + Guid.NewGuid().ToString("N");
        using var accepted = await app.PostSignedAsync(body, webhookId);
        var eventId = (await accepted.JsonAsync()).GetProperty("event_id").GetInt64();
        using (var duplicate = await app.PostSignedAsync(body, webhookId))
        {
            Assert.Equal(HttpStatusCode.OK, duplicate.StatusCode);
        }

        var forgedId = "msg_forged_" + Guid.NewGuid().ToString("N");
        var secretMarker = "stranger_" + Guid.NewGuid().ToString("N");
        using (var forged = await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", secretMarker, T0), forgedId,
                   secret: StandardWebhookSigner.NewSecret()))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        }

        var invalidId = "msg_invalid_" + Guid.NewGuid().ToString("N");
        long quarantineId;
        using (var invalid = await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0, direction: "sideways"), invalidId))
        {
            Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
            quarantineId = (await invalid.JsonAsync()).GetProperty("quarantine_id").GetInt64();
        }

        var largeId = "msg_large_" + Guid.NewGuid().ToString("N");
        using (var tooLarge = await app.PostSignedAsync(new byte[262_145], largeId))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        }

        // Receipts are written off the response path: wait for them to land.
        await Eventually.WaitAsync(async () => await Db.CountAsync(app.ConnectionString,
                "SELECT count(*) FROM webhook_receipts WHERE webhook_id = ANY($1)", (object)new[] { webhookId, forgedId, invalidId, largeId }) == 4,
            TimeSpan.FromSeconds(10), "four receipts written");

        var dup = Assert.Single(Items(await app.GetJsonAsync($"/events?call_id={callId}&result=duplicate")));
        Assert.Equal(eventId, dup.GetProperty("event_id").GetInt64());
        Assert.Equal(webhookId, dup.GetProperty("webhook_id").GetString());

        var unauthorized = Items(await app.GetJsonAsync("/events?result=unauthorized&limit=500")).Single(i => i.GetProperty("webhook_id").GetString() == forgedId);
        Assert.Equal("signature_mismatch", unauthorized.GetProperty("reason").GetString());
        Assert.Equal(JsonValueKind.Null, unauthorized.GetProperty("call_id").ValueKind); // the body was never trusted, so never read
        Assert.Equal(JsonValueKind.Null, unauthorized.GetProperty("body").ValueKind);
        Assert.True(unauthorized.GetProperty("body_bytes").GetInt64() > 100);

        var invalidHit = Assert.Single(Items(await app.GetJsonAsync($"/events?call_id={callId}&result=invalid")));
        Assert.Equal(quarantineId, invalidHit.GetProperty("quarantine_id").GetInt64());
        Assert.Equal("validation_failed", invalidHit.GetProperty("reason").GetString());

        var large = Items(await app.GetJsonAsync("/events?result=too_large&limit=500")).Single(i => i.GetProperty("webhook_id").GetString() == largeId);
        Assert.Equal(262_145, large.GetProperty("body_bytes").GetInt64());

        // Everything about the call, in one newest-first list: the accepted event, its duplicate and the invalid one.
        var forCall = Items(await app.GetJsonAsync($"/events?call_id={callId}"));
        Assert.Equal(["accepted", "duplicate", "invalid"], forCall.Select(i => i.GetProperty("result").GetString()).Order());

        var counts = await app.GetJsonAsync($"/events/counts?call_id={callId}");
        Assert.Equal(1, counts.GetProperty("accepted").GetInt64());
        Assert.Equal(1, counts.GetProperty("duplicate").GetInt64());
        Assert.Equal(1, counts.GetProperty("invalid").GetInt64());

        // Nothing of the stranger's body is kept anywhere.
        Assert.Equal(0, await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM webhook_receipts r WHERE row_to_json(r)::text LIKE '%' || $1 || '%'", secretMarker));
        Assert.Equal(0, await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM quarantined_webhooks WHERE position(convert_to($1, 'UTF8') in raw_body) > 0", secretMarker));
    }

    [Fact]
    public async Task Pages_walk_accepted_and_refused_requests_newest_first_without_gaps_or_repeats()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var expected = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var body = MiniVoiceEvents.Event(callId, $"call.step{i}", "ringing", T0.AddSeconds(i));
            var id = "msg_" + Guid.NewGuid().ToString("N");
            using (await app.PostSignedAsync(body, id)) { }
            using (await app.PostSignedAsync(body, id)) { } // a duplicate receipt
            expected.Add($"accepted:call.step{i}");
            expected.Add($"duplicate:call.step{i}");
        }
        await Eventually.WaitAsync(async () => await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM webhook_receipts WHERE call_id = $1", callId) == 4, TimeSpan.FromSeconds(10), "duplicate receipts written");

        var seen = new List<(string Key, DateTime At)>();
        string? cursor = null;
        do
        {
            var page = await app.GetJsonAsync($"/events?call_id={callId}&limit=3" + (cursor is null ? "" : "&cursor=" + cursor));
            seen.AddRange(Items(page).Select(i => (i.GetProperty("result").GetString() + ":" + i.GetProperty("event").GetString(),
                i.GetProperty("received_at").GetDateTime())));
            cursor = page.GetProperty("next_cursor").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(expected.Order(), seen.Select(s => s.Key).Order());
        Assert.Equal(seen.Count, seen.Select(s => s.Key).Distinct().Count());
        Assert.Equal(seen.Select(s => s.At).OrderDescending(), seen.Select(s => s.At));
    }

    [Theory]
    [InlineData("json=not-json", "json")]
    [InlineData("json=%5B1%2C2%5D", "json")]
    [InlineData("json=%7B%7D&result=invalid", "json")]
    [InlineData("result=rejected", "result")]
    [InlineData("since=yesterday", "since")]
    [InlineData("until=2026-13-01T00:00:00Z", "until")]
    [InlineData("limit=501", "limit")]
    [InlineData("cursor=bm90LWEtY3Vyc29y", "cursor")]
    public async Task Bad_parameters_get_a_400_naming_the_parameter(string query, string parameter)
    {
        using var client = app.CreateClient();
        using var response = await client.GetAsync(new Uri("/events?" + query, UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.JsonAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty(parameter, out _), $"errors should name {parameter}: {errors}");
    }

    [Theory]
    [InlineData("/events", "json=%7B%22a%22%3A%22%5Cu0000%22%7D", "json")] // {"a":"\u0000"}: jsonb refuses the escape
    [InlineData("/events", "json=%7B%22a%5Cu0000%22%3A1%7D", "json")] // in a name
    [InlineData("/events", "json=%7B%22a%22%3A%5B%22x%5Cu0000%22%5D%7D", "json")] // in an array
    [InlineData("/events", "json=%7B%22a%22%3A%22%5Cud800%22%7D", "json")] // a lone surrogate escape
    [InlineData("/events", "json=%7B%22a%22%3A1e1000000%7D", "json")] // past numeric's range
    [InlineData("/events", "call_id=call%00x", "call_id")]
    [InlineData("/events", "event=call.%00", "event")]
    [InlineData("/events/counts", "json=%7B%22a%22%3A%22%5Cu0000%22%7D", "json")]
    [InlineData("/events/counts", "json=%7B%22a%22%3A1e1000000%7D", "json")]
    [InlineData("/events/counts", "call_id=%00", "call_id")]
    [InlineData("/events/counts", "event=%00", "event")]
    public async Task Text_PostgreSQL_cannot_hold_is_a_400_naming_the_parameter_not_a_500(string path, string query, string parameter)
    {
        using var client = app.CreateClient();
        using var response = await client.GetAsync(new Uri(path + "?" + query, UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.JsonAsync()).GetProperty("errors");
        Assert.Equal([parameter], errors.EnumerateObject().Select(e => e.Name));
    }

    [Fact]
    public async Task The_console_search_page_names_the_bad_parameter_too()
    {
        using var client = app.CreateClient();
        var json = Uri.EscapeDataString("{\"a\":1e1000000}");

        using var response = await client.GetAsync(new Uri("/console/events?json=" + json, UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("cannot read as jsonb", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_search_uses_the_gin_index_on_a_table_large_enough_for_the_planner_to_prefer_it()
    {
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync(); // rolled back: the shared database stays as it was
        await using (var fill = new NpgsqlCommand("""
            INSERT INTO webhook_events (identity, call_id, event, created_at, received_at, out_of_order, raw_body, body)
            SELECT 'bulk:' || n, 'bulk_' || n, 'call.completed', now(), now() - n * interval '1 second', false, '\x7b7d'::bytea,
                   jsonb_build_object('call', jsonb_build_object('id', 'bulk_' || n, 'status', 'completed'), 'variables', jsonb_build_object('n', n::text))
            FROM generate_series(1, 30000) n;
            ANALYZE webhook_events;
            """, connection, transaction))
        {
            await fill.ExecuteNonQueryAsync();
        }
        var query = Parse("json=" + Uri.EscapeDataString("""{"variables":{"n":"12345"}}"""));
        await using var explain = new NpgsqlCommand { Connection = connection, Transaction = transaction };
        EventSearch.Prepare(explain, query);
        explain.CommandText = "EXPLAIN " + explain.CommandText;
        var plan = new StringBuilder();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.AppendLine(reader.GetString(0));
            }
        }
        Assert.Contains("body @>", plan.ToString(), StringComparison.Ordinal);
        Assert.Contains("ix_webhook_events_body_path_ops", plan.ToString(), StringComparison.Ordinal);
        await transaction.RollbackAsync();
    }

    private static EventSearchQuery Parse(string query)
    {
        var parsed = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query);
        Assert.True(EventSearchQuery.TryParse(new QueryCollection(parsed), out var q, out var errors), string.Join(", ", errors.Keys));
        return q;
    }

    private static List<JsonElement> Items(JsonElement page) => page.GetProperty("items").EnumerateArray().ToList();
}
