using System.Net;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Operators;

/// <summary>
/// Failed operator logins from one address are limited per window: past the limit that address gets 429 with Retry-After
/// on every operator surface, before its password is checked (so the right one does not get in either), until the window
/// has passed. Other addresses are not affected; successful logins cost nothing. Real Kestrel, real TCP.
/// </summary>
public sealed class FailedLoginTests
{
    private const string Password = "operator-pass-for-login-tests";
    private const int Limit = 3;
    private const int WindowSeconds = 5;

    [Fact]
    public async Task After_the_limit_an_address_gets_429_even_with_the_right_password_until_the_window_passes()
    {
        await using var app = await Hosts.StartAsync(null, new Dictionary<string, string?>
        {
            ["Dashboard:Username"] = "ops",
            ["Dashboard:Password"] = Password,
            ["Dashboard:FailedLoginLimit"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Dashboard:FailedLoginWindowSeconds"] = WindowSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        Uri address;
        using (var kestrel = app.CreateClient())
        {
            address = kestrel.BaseAddress!;
        }
        using var first = PeerClients.FromLoopbackAddress(IPAddress.Parse("127.0.0.1"), address);
        using var second = PeerClients.FromLoopbackAddress(IPAddress.Parse("127.0.0.2"), address);

        for (var i = 0; i < Limit * 2; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(first, "/calls", Password));
        }
        for (var i = 0; i < Limit; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(first, "/calls", "wrong-" + i));
        }

        using (var refused = await SendAsync(first, "/calls", Password))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.InRange(refused.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, WindowSeconds);
        }
        foreach (var path in new[] { "/hangfire", "/console", "/events", "/metrics" })
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(first, path, Password));
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(first, "/calls", password: null));
        // Another address has failures of its own to spend.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(second, "/calls", Password));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(second, "/calls", "wrong"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(second, "/hangfire", Password));

        // Refused attempts do not extend the lockout: once the window has passed the right password works again.
        await Eventually.WaitAsync(async () => await StatusAsync(first, "/calls", Password) == HttpStatusCode.OK,
            TimeSpan.FromSeconds(WindowSeconds * 3), "the failed-login window to pass");
        Assert.Contains(app.Logs.Events, e => e.MessageTemplate.Text.Contains("too many failed logins", StringComparison.Ordinal));
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string path, string? password)
    {
        using var response = await SendAsync(client, path, password);
        return response.StatusCode;
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string path, string? password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (password is not null)
        {
            request.Headers.Authorization = ReceiverFactory.BasicHeader("ops", password);
        }
        return await client.SendAsync(request);
    }
}
