using System.Globalization;
using System.Net;
using System.Text;
using Serilog.Events;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Hosting;

[Collection(ReceiverCollection.Name)]
public sealed class HealthAndLoggingTests(ReceiverFactory app)
{
    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task Health_endpoints_answer_200_with_postgres_up(string path)
    {
        using var client = app.CreateClient();

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Every_log_line_about_a_call_carries_its_CallId()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var body = MiniVoiceEvents.Event(callId, "call.completed", "completed", DateTimeOffset.UtcNow);
        var webhookId = "msg_" + Guid.NewGuid().ToString("N");
        using (await app.PostSignedAsync(body, webhookId)) { }
        using (await app.PostSignedAsync(body, webhookId)) { }

        var about = app.Logs.Events.Where(e => Mentions(e, callId)).ToList();

        Assert.NotEmpty(about);
        Assert.All(about, e => Assert.True(
            e.Properties.TryGetValue("CallId", out var value) && value.ToString().Trim('"') == callId,
            $"log line without CallId: {e.RenderMessage(CultureInfo.InvariantCulture)}"));
        // The request log line of both deliveries is among them.
        Assert.True(about.Count(e => e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal)) >= 2);
    }

    [Fact]
    public async Task Logs_hold_no_secret_password_or_signature()
    {
        var body = Encoding.UTF8.GetBytes(MiniVoiceEvents.Event(MiniVoiceEvents.NewCallId(), "call.completed", "completed", DateTimeOffset.UtcNow));
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var signature = StandardWebhookSigner.Sign(app.Secret, "msg_secretscan", ts, body);
        using (await app.PostSignedAsync(body, "msg_secretscan", timestamp: ts)) { }
        using (await app.PostSignedAsync(body, "msg_secretscan_forged", secret: StandardWebhookSigner.NewSecret())) { }
        using (await app.PostBasicAsync("{\"event\":\"x\"}")) { }

        var logs = app.Logs.AsJsonLines();

        Assert.False(string.IsNullOrEmpty(logs));
        foreach (var secret in new[] { app.Secret, app.Secret["whsec_".Length..], app.RotatedSecret, ReceiverFactory.BasicPassword,
                     signature, signature[3..], ReceiverFactory.BasicHeader(ReceiverFactory.BasicUser, ReceiverFactory.BasicPassword).Parameter! })
        {
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
        }
        Assert.Contains(app.Logs.Events, e => e.Level == LogEventLevel.Warning && e.Properties.ContainsKey("Reason"));
    }

    private static bool Mentions(LogEvent e, string callId) =>
        e.RenderMessage(CultureInfo.InvariantCulture).Contains(callId, StringComparison.Ordinal)
        || e.Properties.Values.Any(v => v.ToString().Contains(callId, StringComparison.Ordinal));
}
