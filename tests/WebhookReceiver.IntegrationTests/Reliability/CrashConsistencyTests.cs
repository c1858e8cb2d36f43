using System.Collections.Concurrent;
using System.Net;
using System.Text;
using WebhookReceiver.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookReceiver.IntegrationTests.Reliability;

/// <summary>
/// SIGKILL the service at a random moment under load, restart it, let the sender retry what was not
/// acknowledged: nothing acknowledged is lost and every effect happens once. One round in CI; set
/// WEBHOOKRECEIVER_CRASH_ROUNDS (README's reliability command uses 5) for more.
/// </summary>
public sealed class CrashConsistencyTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly string[] Finals = ["completed", "busy", "no-answer", "failed"];

    [Fact]
    public async Task A_process_killed_under_load_loses_no_acknowledged_event_and_each_effect_happens_once()
    {
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("WEBHOOKRECEIVER_CRASH_ROUNDS"), out var r) ? r : 1;
        for (var round = 1; round <= rounds; round++)
        {
            await RoundAsync(round, new Random(round * 7919));
        }
    }

    private async Task RoundAsync(int round, Random random)
    {
        await using var rig = await ProcessRig.CreateAsync("wr_crash", workerCount: 8);
        var (database, crm, tickets, secret, environment) = (rig.Database, rig.Crm, rig.Tickets, rig.Secret, rig.Environment);
        // 1 000 calls, each a ringing then a final event: 2 000 signed events, 16 at a time.
        var calls = Enumerable.Range(0, 1000).Select(i => (Id: MiniVoiceEvents.NewCallId(), Final: Finals[i % Finals.Length])).ToList();
        var events = calls.SelectMany(c => new[]
        {
            (WebhookId: $"msg_{c.Id}_1", Body: MiniVoiceEvents.Event(c.Id, "call.ringing", "ringing", T0)),
            (WebhookId: $"msg_{c.Id}_2", Body: MiniVoiceEvents.Event(c.Id, "call." + c.Final.Replace('-', '_'), c.Final, T0.AddMinutes(1))),
        }).ToList();

        var acknowledged = new ConcurrentDictionary<string, bool>();
        int killedAfter;
        await using (var first = await AppProcess.StartAsync(environment))
        {
            var killAt = TimeSpan.FromMilliseconds(random.Next(300, 2500));
            var sending = SendAsync(first, events, secret, acknowledged);
            await Task.Delay(killAt);
            first.Kill();
            killedAfter = acknowledged.Count;
            await sending;
            output.WriteLine($"round {round}: killed after {killAt.TotalMilliseconds:0} ms, {killedAfter} of {events.Count} events acknowledged");
        }

        await using var second = await AppProcess.StartAsync(environment);
        // The sender retries everything it has no 2xx for; the first life may have stored some of them.
        var unacknowledged = events.Where(e => !acknowledged.ContainsKey(e.WebhookId)).ToList();
        await SendAsync(second, unacknowledged, secret, acknowledged);
        Assert.Equal(events.Count, acknowledged.Count);

        // Every acknowledged event is stored, once.
        Assert.Equal(events.Count, await Db.CountAsync(database, "SELECT count(*) FROM webhook_events"));
        await Eventually.WaitAsync(async () => await Db.CountAsync(database, "SELECT count(*) FROM call_actions WHERE state <> 'succeeded'") == 0
                                              && await Db.CountAsync(database, "SELECT count(*) FROM calls WHERE is_final") == calls.Count,
            TimeSpan.FromSeconds(120), "all work to finish", () => Actions.DescribeAsync(database));

        var syncRows = await Db.CountAsync(database, "SELECT count(*) FROM call_actions WHERE action = 'crm.sync'");
        var crmKeys = crm.Requests.Select(q => q.IdempotencyKey).Distinct().Count();
        var ticketKeys = tickets.Requests.Select(q => q.IdempotencyKey).Distinct().Count();
        output.WriteLine($"round {round}: {syncRows} crm.sync rows, {crmKeys} CRM keys ({crm.Requests.Count} requests), " +
                         $"{ticketKeys} ticket keys ({tickets.Requests.Count} requests)");
        // Ledger and stub agree: each action applied under one key, every final call synced, each failed call ticketed once.
        Assert.Equal(syncRows, crmKeys);
        Assert.Equal(calls.Count, crm.Requests.Select(q => q.CallId).Distinct().Count());
        var failedCalls = calls.Count(c => c.Final != "completed");
        Assert.Equal(failedCalls, await Db.CountAsync(database, "SELECT count(*) FROM call_actions WHERE action = 'ticket.create'"));
        Assert.Equal(failedCalls, ticketKeys);
        Assert.Equal(failedCalls, tickets.Requests.Select(q => q.CallId).Distinct().Count());
    }

    /// <summary>Sends each event (ringing before final per call) until the process stops answering.</summary>
    private static async Task SendAsync(AppProcess app, List<(string WebhookId, string Body)> events, string secret,
        ConcurrentDictionary<string, bool> acknowledged)
    {
        using var client = app.CreateClient();
        using var gate = new SemaphoreSlim(16);
        var byCall = events.GroupBy(e => e.WebhookId[..e.WebhookId.LastIndexOf('_')]).ToList();
        await Task.WhenAll(byCall.Select(async call =>
        {
            await gate.WaitAsync();
            try
            {
                foreach (var (webhookId, body) in call)
                {
                    using var request = StandardWebhookSigner.Request(Encoding.UTF8.GetBytes(body), secret, webhookId);
                    try
                    {
                        using var response = await client.SendAsync(request);
                        if (response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK)
                        {
                            acknowledged[webhookId] = true;
                        }
                    }
                    catch (HttpRequestException)
                    {
                        return; // the process is gone: the sender will retry later
                    }
                }
            }
            finally
            {
                gate.Release();
            }
        }));
    }
}
