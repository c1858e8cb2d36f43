using System.Collections.Concurrent;
using System.Net;
using System.Text;
using WebhookReceiver.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookReceiver.IntegrationTests.Reliability;

/// <summary>PostgreSQL or the CRM goes away under load and comes back: nothing is lost, nothing is done twice.</summary>
public sealed class OutageTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_database_outage_under_load_is_503_only_and_the_service_recovers_by_itself()
    {
        await using var postgres = new ThrowawayPostgres();
        await postgres.StartAsync();
        await using var crm = new IntegrationStub();
        await crm.StartAsync();
        var secret = StandardWebhookSigner.NewSecret();
        await using var app = await AppProcess.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings__Postgres"] = postgres.ConnectionString,
            ["Webhooks__SigningSecrets__0"] = secret,
            ["Crm__BaseUrl"] = crm.BaseUrl,
            ["Tickets__BaseUrl"] = crm.BaseUrl,
            // Work cut off by the outage (a claim not yet enqueued, a job mid-state-change) is recovered after this.
            ["Jobs__RecoveryAfterSeconds"] = "5",
            // Jobs that hit the outage are retried; short delays keep the test short.
            ["Jobs__RetryDelaysSeconds__0"] = "1",
            ["Jobs__RetryDelaysSeconds__1"] = "2",
            ["Jobs__RetryDelaysSeconds__2"] = "4",
            ["Logging__Console"] = "false",
        });
        using var client = app.CreateClient();

        // 8 senders post completed events, retrying each until it gets a 2xx, as MiniVoice would.
        var answers = new ConcurrentBag<(string WebhookId, HttpStatusCode Status, DateTimeOffset At)>();
        var acknowledged = new ConcurrentDictionary<string, bool>();
        using var stop = new CancellationTokenSource();
        var senders = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var callId = MiniVoiceEvents.NewCallId();
                var body = Encoding.UTF8.GetBytes(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
                var webhookId = "msg_" + callId;
                while (true)
                {
                    using var request = StandardWebhookSigner.Request(body, secret, webhookId);
                    using var response = await client.SendAsync(request);
                    answers.Add((webhookId, response.StatusCode, DateTimeOffset.UtcNow));
                    if (response.IsSuccessStatusCode)
                    {
                        acknowledged[webhookId] = true;
                        break;
                    }
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                    Assert.NotNull(response.Headers.RetryAfter);
                    await Task.Delay(100);
                }
            }
        })).ToArray();

        await Eventually.WaitAsync(() => acknowledged.Count >= 200, TimeSpan.FromSeconds(30), "load to be under way");
        await postgres.StopAsync();
        var down = DateTimeOffset.UtcNow;
        await Eventually.WaitAsync(async () => await StatusAsync(client, "/health/ready") == HttpStatusCode.ServiceUnavailable,
            TimeSpan.FromSeconds(15), "/health/ready to report the outage");
        await Eventually.WaitAsync(() => answers.Count(a => a.At > down.AddSeconds(1) && a.Status == HttpStatusCode.ServiceUnavailable) >= 20,
            TimeSpan.FromSeconds(15), "503s during the outage");
        Assert.False(app.HasExited, app.RecentOutput);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, "/health/live"));

        await postgres.StartAsync();
        var up = DateTimeOffset.UtcNow;
        var before = acknowledged.Count;
        await Eventually.WaitAsync(() => acknowledged.Count >= before + 200, TimeSpan.FromSeconds(30), "acknowledgements to resume");
        var recoveredIn = answers.Where(a => a.At > up && a.Status is HttpStatusCode.Accepted or HttpStatusCode.OK).Min(a => a.At) - up;
        await stop.CancelAsync();
        await Task.WhenAll(senders);

        output.WriteLine($"{acknowledged.Count} events acknowledged, {answers.Count(a => a.Status == HttpStatusCode.ServiceUnavailable)} answered 503; " +
                         $"first 2xx {recoveredIn.TotalMilliseconds:0} ms after PostgreSQL was back");
        Assert.True(recoveredIn < TimeSpan.FromSeconds(10), $"recovered after {recoveredIn.TotalSeconds:0.0} s");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, "/health/ready"));
        // Every acknowledged event is stored exactly once; the 503s stored nothing else.
        Assert.Equal(acknowledged.Count, await Db.CountAsync(postgres.ConnectionString, "SELECT count(*) FROM webhook_events"));
        Assert.Equal(acknowledged.Count, await Db.CountAsync(postgres.ConnectionString,
            "SELECT count(*) FROM webhook_events WHERE webhook_id = ANY($1)", (object)acknowledged.Keys.ToArray()));
        // The outage did not strand the work either.
        await Eventually.WaitAsync(async () => await Db.CountAsync(postgres.ConnectionString,
                "SELECT count(*) FROM call_actions WHERE state = 'succeeded'") == acknowledged.Count,
            TimeSpan.FromSeconds(60), "every CRM sync to succeed", () => Actions.DescribeAsync(postgres.ConnectionString));
        Assert.Equal(acknowledged.Count, crm.Requests.Select(q => q.IdempotencyKey).Distinct().Count());
    }

    [Fact]
    public async Task A_crm_outage_longer_than_several_retries_ends_with_every_sync_done_once()
    {
        var crmPort = Ports.Free();
        var settings = new Dictionary<string, string?>
        {
            ["Crm:BaseUrl"] = $"http://127.0.0.1:{crmPort}",
            ["Crm:TimeoutSeconds"] = "2",
        };
        for (var i = 0; i < 10; i++)
        {
            settings[$"Jobs:RetryDelaysSeconds:{i}"] = "1";
        }
        var app = new CustomReceiverFactory(null, settings);
        await app.InitializeAsync();
        try
        {
            var callIds = Enumerable.Range(0, 30).Select(_ => MiniVoiceEvents.NewCallId()).ToList();
            foreach (var callId in callIds)
            {
                using var response = await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }

            // Phase 1: nothing listens on the CRM's port (connection refused) for three attempts each.
            await Eventually.WaitAsync(async () => await Db.CountAsync(app.ConnectionString,
                    "SELECT count(*) FROM call_actions WHERE attempts >= 3") == callIds.Count,
                TimeSpan.FromSeconds(60), "three refused attempts per action", () => Actions.DescribeAsync(app.ConnectionString));
            Assert.Equal("unreachable", await Db.ScalarAsync<string>(app.ConnectionString, "SELECT last_error_kind FROM call_actions LIMIT 1"));
            Assert.Contains("unreachable", await Db.ScalarAsync<string>(app.ConnectionString, "SELECT last_error FROM call_actions LIMIT 1"),
                StringComparison.Ordinal);

            // Phase 2: the CRM is back but answers 503 twice per call; then it works.
            await using var crm = new IntegrationStub();
            foreach (var callId in callIds)
            {
                crm.Script(callId, new StubReply(503), new StubReply(503));
            }
            await crm.StartAsync(crmPort);
            await Eventually.WaitAsync(async () => await Db.CountAsync(app.ConnectionString,
                    "SELECT count(*) FROM call_actions WHERE state = 'succeeded'") == callIds.Count,
                TimeSpan.FromSeconds(60), "every sync to succeed", () => Actions.DescribeAsync(app.ConnectionString));

            var attempts = await Db.ScalarAsync<long>(app.ConnectionString, "SELECT sum(attempts)::bigint FROM call_actions");
            output.WriteLine($"{callIds.Count} syncs, {attempts} attempts in all, {crm.Requests.Count} reached the CRM");
            Assert.All(callIds, id => Assert.Single(crm.For(id), q => q.AnsweredStatus == 200));
            Assert.All(callIds, id => Assert.Single(crm.For(id).Select(q => q.IdempotencyKey).Distinct()));
            // The ledger records success inside the job, a moment before Hangfire marks the job Succeeded.
            await Eventually.WaitAsync(async () => await Db.CountAsync(app.ConnectionString,
                    "SELECT count(*) FROM hangfire.job WHERE statename IN ('Processing', 'Enqueued', 'Scheduled')") == 0,
                TimeSpan.FromSeconds(10), "no job left Processing, Enqueued or Scheduled", () => Actions.DescribeAsync(app.ConnectionString));
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        return response.StatusCode;
    }
}
