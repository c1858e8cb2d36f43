using System.Net;
using Microsoft.Extensions.Options;
using Serilog.Events;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Hosting;

public sealed class StartupTests
{
    private sealed class NoAuthFactory(bool allowUnauthenticated) : ReceiverFactory
    {
        protected override void Configure(IDictionary<string, string?> settings)
        {
            settings["Webhooks:SigningSecrets:0"] = "";
            settings["Webhooks:SigningSecrets:1"] = "";
            settings["Webhooks:BasicAuth:Username"] = "";
            settings["Webhooks:BasicAuth:Password"] = "";
            settings["Webhooks:AllowUnauthenticated"] = allowUnauthenticated ? "true" : "false";
            settings["Role"] = "api";
        }
    }

    [Fact]
    public async Task The_service_refuses_to_start_with_no_webhook_authentication_configured()
    {
        await using var factory = new NoAuthFactory(allowUnauthenticated: false);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(factory.InitializeAsync);

        Assert.Contains("Webhooks:SigningSecrets", error.Message, StringComparison.Ordinal);
        await ((IAsyncLifetime)factory).DisposeAsync();
    }

    [Fact]
    public async Task AllowUnauthenticated_starts_accepts_unsigned_events_and_warns()
    {
        var factory = new NoAuthFactory(allowUnauthenticated: true);
        await factory.InitializeAsync();
        try
        {
            using var client = factory.CreateClient();
            using var content = new StringContent(
                MiniVoiceEvents.Event(MiniVoiceEvents.NewCallId(), "call.ringing", "ringing", DateTimeOffset.UtcNow),
                System.Text.Encoding.UTF8, "application/json");

            using var response = await client.PostAsync(new Uri("/webhooks/minivoice", UriKind.Relative), content);

            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            Assert.Contains(factory.Logs.Events, e => e.Level == LogEventLevel.Warning
                && e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture).Contains("AllowUnauthenticated", StringComparison.Ordinal));
        }
        finally
        {
            await ((IAsyncLifetime)factory).DisposeAsync();
        }
    }
}

public sealed class RoleTests
{
    [Theory]
    [InlineData("/webhooks/minivoice", "POST")]
    [InlineData("/calls", "GET")]
    [InlineData("/hangfire", "GET")]
    public async Task A_worker_process_serves_only_health(string path, string method)
    {
        var app = new CustomReceiverFactory(null, new Dictionary<string, string?> { ["Role"] = "worker" });
        await app.InitializeAsync();
        try
        {
            using var client = app.CreateClient();
            using var request = new HttpRequestMessage(new HttpMethod(method), path);

            using var response = await client.SendAsync(request);
            using var live = await client.GetAsync(new Uri("/health/live", UriKind.Relative));

            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }
}
