using System.Net;
using System.Net.Http.Headers;
using System.Text;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Webhooks;

/// <summary>Every row of the table in README "Receiving webhooks", over real HTTP against real PostgreSQL.</summary>
[Collection(ReceiverCollection.Name)]
public sealed class WebhookAnswersTests(ReceiverFactory app)
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task New_valid_event_is_accepted_after_event_and_call_are_committed()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var body = MiniVoiceEvents.Event(callId, "call.completed", "completed", T0);

        using var response = await app.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var json = await response.JsonAsync();
        Assert.Equal("accepted", json.GetProperty("status").GetString());
        Assert.Equal(callId, json.GetProperty("call_id").GetString());
        var eventId = json.GetProperty("event_id").GetInt64();
        // Read back on a separate connection: the answer came after the commit.
        Assert.Equal(1, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM webhook_events WHERE id = $1 AND call_id = $2", eventId, callId));
        Assert.Equal(1, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM calls WHERE id = $1 AND status = 'completed'", callId));
    }

    [Fact]
    public async Task Raw_body_is_kept_byte_exact_beside_a_jsonb_copy()
    {
        var callId = MiniVoiceEvents.NewCallId();
        // Odd spacing, key order and an unknown property: jsonb would normalise all three.
        var body = Encoding.UTF8.GetBytes(
            "{ \"zeta_unknown\": {\"b\":1, \"a\":2},\n  \"event\":\"call.ringing\", \"created_at\":\"2026-05-29T12:00:00Z\", " +
            $"\"call\":{{\"id\":\"{callId}\",\"status\":\"ringing\"}} }}");

        using var response = await app.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var raw = await Db.ScalarAsync<byte[]>(app.ConnectionString, "SELECT raw_body FROM webhook_events WHERE call_id = $1", callId);
        Assert.Equal(body, raw);
        Assert.Equal(1, await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM webhook_events WHERE call_id = $1 AND body @> '{\"zeta_unknown\":{\"a\":2}}'", callId));
    }

    [Fact]
    public async Task Redelivery_with_the_same_webhook_id_is_a_duplicate_and_stores_nothing_new()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var body = MiniVoiceEvents.Event(callId, "call.completed", "completed", T0);
        var webhookId = "msg_" + Guid.NewGuid().ToString("N");

        using var first = await app.PostSignedAsync(body, webhookId);
        using var second = await app.PostSignedAsync(body, webhookId);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var json = await second.JsonAsync();
        Assert.Equal("duplicate", json.GetProperty("status").GetString());
        Assert.Equal((await first.JsonAsync()).GetProperty("event_id").GetInt64(), json.GetProperty("event_id").GetInt64());
        Assert.Equal(1, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM webhook_events WHERE call_id = $1", callId));
    }

    [Fact]
    public async Task Without_webhook_id_the_call_event_and_time_identify_the_event()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var body = MiniVoiceEvents.Event(callId, "call.completed", "completed", T0);
        var sameInstantOtherOffset = body.Replace("2026-05-29T12:00:00.000Z", "2026-05-29T14:00:00+02:00", StringComparison.Ordinal);

        using var first = await app.PostBasicAsync(body);
        using var second = await app.PostBasicAsync(sameInstantOtherOffset);
        using var otherEvent = await app.PostBasicAsync(MiniVoiceEvents.Event(callId, "call.recording", "completed", T0));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, otherEvent.StatusCode);
        Assert.Equal(2, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM webhook_events WHERE call_id = $1", callId));
    }

    [Fact]
    public async Task Concurrent_identical_deliveries_store_the_event_once()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var body = MiniVoiceEvents.Event(callId, "call.completed", "completed", T0, variables: new { order = "B2" });
        var webhookId = "msg_" + Guid.NewGuid().ToString("N");

        var responses = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => app.PostSignedAsync(body, webhookId)));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Accepted);
        Assert.Equal(23, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(1, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM webhook_events WHERE call_id = $1", callId));
        Assert.Equal(1, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM calls WHERE id = $1", callId));
        foreach (var r in responses)
        {
            r.Dispose();
        }
    }

    [Fact]
    public async Task Body_that_is_not_json_gets_400_and_is_quarantined_with_the_reason()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var body = $"{{\"event\": \"call.completed\", \"call\": {{\"id\": \"{callId}\"";

        using var response = await app.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.JsonAsync();
        Assert.True(problem.GetProperty("errors").TryGetProperty("body", out _));
        var quarantineId = problem.GetProperty("quarantine_id").GetInt64();
        Assert.Equal(Encoding.UTF8.GetBytes(body), await Db.ScalarAsync<byte[]>(app.ConnectionString,
            "SELECT raw_body FROM quarantined_webhooks WHERE id = $1", quarantineId));
        Assert.Equal("invalid_json", await Db.ScalarAsync<string>(app.ConnectionString,
            "SELECT reason FROM quarantined_webhooks WHERE id = $1", quarantineId));
        Assert.Equal(0, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM webhook_events WHERE call_id = $1", callId));
    }

    [Fact]
    public async Task Invalid_fields_get_400_naming_each_field_and_a_quarantine_row_with_headers()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var body = $$$"""{"event":"Call Completed","created_at":"yesterday","call":{"id":"{{{callId}}}","direction":"sideways","from":"abc"},"variables":{"n":7}}""";
        var webhookId = "msg_" + Guid.NewGuid().ToString("N");

        using var response = await app.PostSignedAsync(body, webhookId);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.JsonAsync();
        var fields = problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.Equal(new HashSet<string> { "event", "created_at", "call.direction", "call.from", "variables.n" }, fields);
        var id = problem.GetProperty("quarantine_id").GetInt64();
        Assert.Equal(webhookId, await Db.ScalarAsync<string>(app.ConnectionString,
            "SELECT headers->>'webhook-id' FROM quarantined_webhooks WHERE id = $1", id));
        Assert.Equal(0, await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM quarantined_webhooks WHERE id = $1 AND headers ? 'webhook-signature'", id));
        Assert.Equal(1, await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM quarantined_webhooks WHERE id = $1 AND errors ? 'call.from'", id));
        Assert.Equal(0, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM calls WHERE id = $1", callId));
    }

    [Fact]
    public async Task Json_that_postgres_cannot_store_is_refused_as_bad_input_not_an_outage()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var body = MiniVoiceEvents.Event(callId, "call.ringing", "ringing", T0, variables: new { note = "a\u0000b" });

        using var response = await app.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(1, await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM quarantined_webhooks WHERE position(convert_to($1, 'UTF8') in raw_body) > 0", callId));
        Assert.Equal(0, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM calls WHERE id = $1", callId));
    }

    [Fact]
    public async Task An_unstorable_event_in_a_concurrent_burst_is_refused_alone_and_the_others_are_stored()
    {
        var good = Enumerable.Range(0, 40).Select(_ => MiniVoiceEvents.NewCallId()).ToList();
        var badCallId = MiniVoiceEvents.NewCallId();
        var bodies = good.Select(id => MiniVoiceEvents.Event(id, "call.completed", "completed", T0))
            .Append(MiniVoiceEvents.Event(badCallId, "call.ringing", "ringing", T0, variables: new { note = "a\u0000b" }));

        var responses = await Task.WhenAll(bodies.Select(b => app.PostSignedAsync(b)));

        Assert.Equal(40, responses.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.BadRequest);
        Assert.Equal(40, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM calls WHERE id = ANY($1)", (object)good.ToArray()));
        Assert.Equal(0, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM calls WHERE id = $1", badCallId));
        foreach (var r in responses)
        {
            r.Dispose();
        }
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData(null)]
    public async Task Wrong_or_missing_content_type_gets_415_and_stores_nothing(string? contentType)
    {
        var callId = MiniVoiceEvents.NewCallId();

        using var response = await app.PostBasicAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0), contentType);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, await Db.RowsMentioningAsync(app.ConnectionString, callId));
    }

    [Fact]
    public async Task Missing_or_wrong_credentials_get_401_without_detail_and_store_nothing()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var body = MiniVoiceEvents.Event(callId, "call.completed", "completed", T0);
        using var client = app.CreateClient();

        using var none = await client.PostAsync(new Uri("/webhooks/minivoice", UriKind.Relative), Json(body));
        using var wrongBasic = new HttpRequestMessage(HttpMethod.Post, "/webhooks/minivoice") { Content = Json(body) };
        wrongBasic.Headers.Authorization = ReceiverFactory.BasicHeader(ReceiverFactory.BasicUser, "not-the-password");
        using var wrongBasicResponse = await client.SendAsync(wrongBasic);
        using var forged = await app.PostSignedAsync(body, secret: StandardWebhookSigner.NewSecret());

        foreach (var response in new[] { none, wrongBasicResponse, forged })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var problem = await response.JsonAsync();
            Assert.False(problem.TryGetProperty("detail", out _), "a 401 must not say which check failed");
        }
        Assert.Equal(0, await Db.RowsMentioningAsync(app.ConnectionString, callId));
    }

    [Fact]
    public async Task Body_of_exactly_the_limit_is_accepted_and_one_byte_more_gets_413()
    {
        const int limit = 262_144;
        var callId = MiniVoiceEvents.NewCallId();
        var exact = PadTo(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0), limit);
        var overCallId = MiniVoiceEvents.NewCallId();
        var over = PadTo(MiniVoiceEvents.Event(overCallId, "call.completed", "completed", T0), limit + 1);

        using var accepted = await app.PostSignedAsync(exact);
        using var refused = await app.PostSignedAsync(over);

        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, await Db.RowsMentioningAsync(app.ConnectionString, overCallId));
    }

    [Fact]
    public async Task Chunked_body_over_the_limit_gets_413_and_stores_nothing()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var over = PadTo(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0), 262_145);
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/minivoice")
        {
            Content = new StreamContent(new MemoryStream(over)), // no length known: sent chunked
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TransferEncodingChunked = true;
        request.Headers.Authorization = ReceiverFactory.BasicHeader(ReceiverFactory.BasicUser, ReceiverFactory.BasicPassword);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(0, await Db.RowsMentioningAsync(app.ConnectionString, callId));
    }

    [Fact]
    public async Task Chunked_body_within_the_limit_is_accepted()
    {
        var callId = MiniVoiceEvents.NewCallId();
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/minivoice")
        {
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0)))),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TransferEncodingChunked = true;
        request.Headers.Authorization = ReceiverFactory.BasicHeader(ReceiverFactory.BasicUser, ReceiverFactory.BasicPassword);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task Unknown_event_types_and_statuses_are_accepted_and_stored_as_sent()
    {
        var callId = MiniVoiceEvents.NewCallId();

        using var response = await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.transferred_v2", "On_Hold", T0));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var call = await app.GetJsonAsync($"/calls/{callId}");
        Assert.Equal("On_Hold", call.GetProperty("status").GetString());
        Assert.False(call.GetProperty("is_final").GetBoolean());
        Assert.Equal("call.transferred_v2", call.GetProperty("events")[0].GetProperty("event").GetString());
    }

    private static ByteArrayContent Json(string body)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>Pads with an unknown property (kept, as the contract asks) to an exact byte size.</summary>
    private static byte[] PadTo(string json, int size)
    {
        var head = json[..^1] + ",\"padding\":\"";
        var padding = size - Encoding.UTF8.GetByteCount(head) - 2;
        return Encoding.UTF8.GetBytes(head + new string('x', padding) + "\"}");
    }
}
