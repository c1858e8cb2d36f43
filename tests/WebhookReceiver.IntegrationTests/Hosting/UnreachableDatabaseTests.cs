using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using WebhookReceiver.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookReceiver.IntegrationTests.Hosting;

/// <summary>
/// PostgreSQL's host unreachable rather than refusing: every connection attempt would wait out its timeout. Queued
/// webhooks must still get their 503 (with Retry-After) within Webhooks:RetryAfterSeconds, not minutes later.
/// </summary>
public sealed class UnreachableDatabaseTests(ITestOutputHelper output)
{
    private const int RetryAfterSeconds = 2;
    private const int Burst = 400; // more than the writers take at once (4 x 64): most of them wait in the queue

    [Fact]
    public async Task A_burst_of_webhooks_gets_its_503s_within_retry_after_while_postgres_never_answers()
    {
        // A listener that is never accepted from: the kernel completes a TCP handshake or two (then, its backlog full,
        // drops the SYNs), and nothing ever answers PostgreSQL's start-up message.
        using var blackHole = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        blackHole.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        blackHole.Listen(1);
        var port = ((IPEndPoint)blackHole.LocalEndPoint!).Port;
        var secret = StandardWebhookSigner.NewSecret();
        await using var app = await AppProcess.StartAsync(new Dictionary<string, string?>
        {
            // No Timeout set: the service's own connect timeout applies (5 s), as in production.
            ["ConnectionStrings__Postgres"] = $"Host=127.0.0.1;Port={port};Username=postgres;Password=postgres;Database=nowhere",
            ["Database__MigrateOnStartup"] = "false",
            ["Role"] = "api",
            ["Webhooks__SigningSecrets__0"] = secret,
            ["Webhooks__RetryAfterSeconds"] = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Dashboard__Username"] = "ops",
            ["Dashboard__Password"] = "operator-password-for-tests",
            ["Logging__Console"] = "false",
        }, readinessPath: "/health/live");
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Burst }) { BaseAddress = app.BaseAddress };
        // Connections opened, the webhook path run once (its first run compiles it) and requests signed beforehand:
        // the clock below measures the service, not this test's set-up or a cold start.
        await Task.WhenAll(Enumerable.Range(0, Burst).Select(_ => client.GetAsync(new Uri("/health/live", UriKind.Relative))));
        using (var first = StandardWebhookSigner.Request(Encoding.UTF8.GetBytes(
                   MiniVoiceEvents.Event(MiniVoiceEvents.NewCallId(), "call.completed", "completed", DateTimeOffset.UtcNow)), secret))
        using (var warm = await client.SendAsync(first))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, warm.StatusCode);
        }
        var requests = Enumerable.Range(0, Burst).Select(_ => StandardWebhookSigner.Request(Encoding.UTF8.GetBytes(
            MiniVoiceEvents.Event(MiniVoiceEvents.NewCallId(), "call.completed", "completed", DateTimeOffset.UtcNow)), secret)).ToList();

        var answers = await Task.WhenAll(requests.Select(async request =>
        {
            var clock = Stopwatch.StartNew();
            using var response = await client.SendAsync(request);
            return (response.StatusCode, response.Headers.RetryAfter?.Delta, clock.Elapsed);
        }));

        Assert.All(answers, a =>
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, a.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(RetryAfterSeconds), a.Delta);
        });
        // The bound is Retry-After itself; the half second on top is for this machine's scheduling (tests share it).
        var slowest = answers.Max(a => a.Elapsed);
        var spread = string.Join(", ", answers.GroupBy(a => Math.Round(a.Elapsed.TotalSeconds, 1)).OrderBy(g => g.Key)
            .Select(g => $"{g.Key} s x{g.Count()}"));
        output.WriteLine($"503s after: {spread}");
        Assert.True(slowest < TimeSpan.FromSeconds(RetryAfterSeconds + 0.5),
            $"the slowest 503 took {slowest.TotalSeconds:0.0} s: {spread}");
        // Readiness keeps saying what it said before: PostgreSQL is not there.
        using var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
    }
}
