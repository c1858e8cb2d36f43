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
