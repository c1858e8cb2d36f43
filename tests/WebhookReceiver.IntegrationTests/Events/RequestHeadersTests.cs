using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Events;

/// <summary>
/// The request headers kept with each accepted event (README "Request inspection"): shown by GET /events and the
/// console's event view; never a signature, a credential or a cookie.
/// </summary>
[Collection(ReceiverCollection.Name)]
public sealed class RequestHeadersTests(ReceiverFactory app)
{
    private static readonly DateTimeOffset T0 = new(2026, 7, 2, 9, 0, 0, TimeSpan.Zero);
    private const string UserAgent = "MiniVoice-Webhooks/2.1 (+https://minivoice.example)";
    private const string ForwardedFor = "203.0.113.7, 10.0.0.2";

    [Fact]
    public async Task A_signed_webhook_keeps_its_headers_of_interest_and_which_secret_matched_never_the_signature()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var body = Encoding.UTF8.GetBytes(MiniVoiceEvents.Event(callId, "call.ringing", "ringing", T0));
        var webhookId = "msg_" + Guid.NewGuid().ToString("N");
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var signature = StandardWebhookSigner.Sign(app.RotatedSecret, webhookId, timestamp, body);
        using (var response = await SendAsync(body, r =>
               {
                   r.Headers.Add("webhook-id", webhookId);
                   r.Headers.Add("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
                   r.Headers.Add("webhook-signature", signature);
                   r.Headers.Add("Cookie", "session=secret-cookie-value");
                   r.Headers.Add("X-Api-Token", "tok_should_never_be_kept");
               }))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var (headers, text) = await KeptHeadersAsync(callId);

        Assert.Equal("application/json", headers["content-type"]);
        Assert.Equal(body.Length.ToString(CultureInfo.InvariantCulture), headers["content-length"]);
        Assert.Equal(UserAgent, headers["user-agent"]);
        Assert.Equal(webhookId, headers["webhook-id"]);
        Assert.Equal(timestamp.ToString(CultureInfo.InvariantCulture), headers["webhook-timestamp"]);
        Assert.Equal(ForwardedFor, headers["x-forwarded-for"]);
        Assert.Equal("for=203.0.113.7;proto=https", headers["forwarded"]);
        Assert.Equal("signature:1", headers["authenticated_by"]); // the rotated secret, by its position, never itself
        Assert.DoesNotContain("webhook-signature", headers.Keys);
        Assert.DoesNotContain(signature[3..], text, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-cookie-value", text, StringComparison.Ordinal);
        Assert.DoesNotContain("tok_should_never_be_kept", text, StringComparison.Ordinal);
        Assert.DoesNotContain(app.RotatedSecret, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Basic_webhook_keeps_basic_as_its_authentication_and_never_the_Authorization_header()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var body = Encoding.UTF8.GetBytes(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
        var authorization = ReceiverFactory.BasicHeader(ReceiverFactory.BasicUser, ReceiverFactory.BasicPassword);
        using (var response = await SendAsync(body, r => r.Headers.Authorization = authorization))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var (headers, text) = await KeptHeadersAsync(callId);

        Assert.Equal("basic", headers["authenticated_by"]);
        Assert.Equal(UserAgent, headers["user-agent"]);
        Assert.DoesNotContain("authorization", headers.Keys);
        Assert.DoesNotContain("webhook-id", headers.Keys); // none was sent
        Assert.DoesNotContain(authorization.Parameter!, text, StringComparison.Ordinal);
        Assert.DoesNotContain(ReceiverFactory.BasicPassword, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Svix_aliases_are_kept_as_sent_and_the_svix_signature_is_not()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var body = Encoding.UTF8.GetBytes(MiniVoiceEvents.Event(callId, "call.answered", "in-progress", T0));
        var id = "msg_svix_" + Guid.NewGuid().ToString("N");
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var signature = StandardWebhookSigner.Sign(app.Secret, id, timestamp, body);
        using (var response = await SendAsync(body, r =>
               {
                   r.Headers.Add("svix-id", id);
                   r.Headers.Add("svix-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
                   r.Headers.Add("svix-signature", signature);
               }))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var (headers, text) = await KeptHeadersAsync(callId);

        Assert.Equal(id, headers["svix-id"]);
        Assert.Equal(timestamp.ToString(CultureInfo.InvariantCulture), headers["svix-timestamp"]);
        Assert.Equal("signature:0", headers["authenticated_by"]);
        Assert.DoesNotContain("svix-signature", headers.Keys);
        Assert.DoesNotContain(signature[3..], text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_consoles_event_view_shows_the_kept_headers_with_the_body()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var body = Encoding.UTF8.GetBytes(MiniVoiceEvents.Event(callId, "call.ringing", "ringing", T0));
        var authorization = ReceiverFactory.BasicHeader(ReceiverFactory.BasicUser, ReceiverFactory.BasicPassword);
        using (await SendAsync(body, r => r.Headers.Authorization = authorization)) { }
        using var signed = await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0.AddSeconds(30)));
        Assert.Equal(HttpStatusCode.Accepted, signed.StatusCode);

        using var client = app.CreateClient();
        var html = await client.GetStringAsync(new Uri($"/console/events?call_id={callId}", UriKind.Relative));

        Assert.Contains("<summary>Request headers</summary>", html, StringComparison.Ordinal);
        Assert.Contains("<code>x-forwarded-for</code></dt><dd>203.0.113.7, 10.0.0.2</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<code>authenticated_by</code></dt><dd>basic</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<code>authenticated_by</code></dt><dd>signature:0</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<code>user-agent</code></dt><dd>MiniVoice-Webhooks/2.1 (", html, StringComparison.Ordinal);
        Assert.DoesNotContain(authorization.Parameter!, html, StringComparison.Ordinal);
        Assert.DoesNotContain("webhook-signature", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_quarantined_body_keeps_the_same_headers_as_an_accepted_event()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var body = Encoding.UTF8.GetBytes(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0, direction: "sideways"));
        var authorization = ReceiverFactory.BasicHeader(ReceiverFactory.BasicUser, ReceiverFactory.BasicPassword);
        long quarantineId;
        using (var response = await SendAsync(body, r => r.Headers.Authorization = authorization))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            quarantineId = (await response.JsonAsync()).GetProperty("quarantine_id").GetInt64();
        }

        var kept = await Db.ScalarAsync<string>(app.ConnectionString, "SELECT headers::text FROM quarantined_webhooks WHERE id = $1",
            quarantineId);
        var headers = JsonSerializer.Deserialize<Dictionary<string, string>>(kept!)!;

        Assert.Equal("basic", headers["authenticated_by"]);
        Assert.Equal(ForwardedFor, headers["x-forwarded-for"]);
        Assert.Equal(UserAgent, headers["user-agent"]);
        Assert.DoesNotContain(authorization.Parameter!, kept, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_KeepRequestHeaders_off_nothing_is_kept()
    {
        await using var host = await Hosts.StartAsync(null, new Dictionary<string, string?> { ["Webhooks:KeepRequestHeaders"] = "false" });
        var callId = MiniVoiceEvents.NewCallId();
        using (var response = await host.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.ringing", "ringing", T0)))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var item = Assert.Single(Items(await host.GetJsonAsync($"/events?call_id={callId}")));

        Assert.Equal(JsonValueKind.Null, item.GetProperty("request_headers").ValueKind);
        Assert.Equal(1, await Db.CountAsync(host.ConnectionString,
            "SELECT count(*) FROM webhook_events WHERE call_id = $1 AND request_headers IS NULL", callId));
    }

    private async Task<HttpResponseMessage> SendAsync(byte[] body, Action<HttpRequestMessage> authenticate)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/minivoice") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        request.Headers.Add("X-Forwarded-For", ForwardedFor);
        request.Headers.Add("Forwarded", "for=203.0.113.7;proto=https");
        authenticate(request);
        using var client = app.CreateClient();
        return await client.SendAsync(request);
    }

    /// <summary>The single accepted event's request_headers from GET /events, and the whole answer as text.</summary>
    private async Task<(Dictionary<string, string> Headers, string Text)> KeptHeadersAsync(string callId)
    {
        var page = await app.GetJsonAsync($"/events?call_id={callId}");
        var item = Assert.Single(Items(page));
        Assert.Equal("accepted", item.GetProperty("result").GetString());
        Assert.Equal(callId, item.GetProperty("body").GetProperty("call").GetProperty("id").GetString());
        var headers = item.GetProperty("request_headers").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        return (headers, page.GetRawText());
    }

    private static List<JsonElement> Items(JsonElement page) => page.GetProperty("items").EnumerateArray().ToList();
}
