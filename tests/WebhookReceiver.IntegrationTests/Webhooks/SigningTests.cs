using System.Net;
using System.Net.Http.Headers;
using System.Text;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Webhooks;

/// <summary>Standard Webhooks signatures end to end, signed by the tests' own signer.</summary>
[Collection(ReceiverCollection.Name)]
public sealed class SigningTests(ReceiverFactory app)
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_tests_signer_reproduces_the_specs_published_vector()
    {
        var signature = StandardWebhookSigner.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330, Encoding.UTF8.GetBytes("{\"test\": 2432232314}"));

        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
    }

    [Fact]
    public async Task A_request_signed_with_the_rotated_secret_passes()
    {
        using var response = await app.PostSignedAsync(NewEvent(), secret: app.RotatedSecret);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task Svix_header_names_are_accepted_as_aliases()
    {
        var body = Encoding.UTF8.GetBytes(NewEvent());
        var id = "msg_" + Guid.NewGuid().ToString("N");
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var request = Request(body);
        request.Headers.Add("svix-id", id);
        request.Headers.Add("svix-timestamp", ts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("svix-signature", StandardWebhookSigner.Sign(app.Secret, id, ts, body));
        using var client = app.CreateClient();

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task A_header_with_several_signatures_passes_when_any_one_matches()
    {
        var body = Encoding.UTF8.GetBytes(NewEvent());
        var id = "msg_" + Guid.NewGuid().ToString("N");
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var request = Request(body);
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", ts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var wrong = StandardWebhookSigner.Sign(StandardWebhookSigner.NewSecret(), id, ts, body);
        request.Headers.Add("webhook-signature", $"v1a,bm90LWEtc2ln {wrong} {StandardWebhookSigner.Sign(app.Secret, id, ts, body)}");
        using var client = app.CreateClient();

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Theory]
    [InlineData(-301)]
    [InlineData(301)]
    public async Task A_timestamp_outside_the_tolerance_in_the_past_or_future_is_refused(int offsetSeconds)
    {
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + offsetSeconds;

        using var response = await app.PostSignedAsync(NewEvent(), timestamp: ts);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_timestamp_inside_the_tolerance_passes()
    {
        using var response = await app.PostSignedAsync(NewEvent(), timestamp: DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 240);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task A_signature_over_a_different_body_is_refused()
    {
        var body = Encoding.UTF8.GetBytes(NewEvent());
        var id = "msg_" + Guid.NewGuid().ToString("N");
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var signature = StandardWebhookSigner.Sign(app.Secret, id, ts, body);
        body[^2] = (byte)' '; // one byte changed after signing
        using var request = Request(body);
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", ts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", signature);
        using var client = app.CreateClient();

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_replayed_signed_request_within_the_tolerance_is_only_a_duplicate()
    {
        var body = NewEvent();
        var id = "msg_" + Guid.NewGuid().ToString("N");
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        using var first = await app.PostSignedAsync(body, id, timestamp: ts);
        using var replay = await app.PostSignedAsync(body, id, timestamp: ts);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
    }

    private static string NewEvent() => MiniVoiceEvents.Event(MiniVoiceEvents.NewCallId(), "call.ringing", "ringing", T0);

    private static HttpRequestMessage Request(byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/minivoice") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return request;
    }
}
