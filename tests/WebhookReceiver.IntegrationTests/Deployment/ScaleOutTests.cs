using System.Net;
using System.Text;
using WebhookReceiver.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookReceiver.IntegrationTests.Deployment;

/// <summary>Several identical processes on one PostgreSQL: each effect once, and a killed process loses nothing.</summary>
public sealed class ScaleOutTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Two_processes_share_500_events_each_action_succeeds_once_and_a_killed_process_work_is_finished_by_the_other()
    {
        const int workers = 4, actionsPerJob = 8;
        await using var rig = await ProcessRig.CreateAsync("wr_scale", workers, actionsPerJob);
        var (database, crm, tickets, secret, environment) = (rig.Database, rig.Crm, rig.Tickets, rig.Secret, rig.Environment);
        // Both start at once against an empty database: migrations must serialise.
        var starting = new[] { AppProcess.StartAsync(environment), AppProcess.StartAsync(environment) };
        await using var a = await starting[0];
        await using var b = await starting[1];

        // Every CRM and ticket call takes a little while, so the kill below lands mid-run.
        var calls = Enumerable.Range(0, 500).Select(i => (Id: MiniVoiceEvents.NewCallId(), Status: i % 2 == 0 ? "completed" : "busy")).ToList();
        foreach (var call in calls)
        {
            crm.Script(call.Id, new StubReply(Delay: TimeSpan.FromMilliseconds(25)));
        }
        var statuses = await SendAllAsync(calls, [a, b], secret);
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Accepted, s));

        const int expected = 500 + 250; // a crm.sync per call, a ticket per busy call
        await Eventually.WaitAsync(() => crm.Requests.Count + tickets.Requests.Count >= 150, TimeSpan.FromSeconds(60), "work to be under way");
        a.Kill();
        var doneAtKill = crm.Requests.Count + tickets.Requests.Count;

        await Eventually.WaitAsync(async () => await Db.CountAsync(database, "SELECT count(*) FROM call_actions WHERE state = 'succeeded'") == expected,
            TimeSpan.FromSeconds(90), $"all {expected} actions to succeed after the kill", () => Actions.DescribeAsync(database));

        var delivered = crm.Requests.Concat(tickets.Requests).ToList();
        var keys = delivered.Select(r => r.IdempotencyKey).Distinct().Count();
        var repeats = delivered.Count - keys;
        output.WriteLine($"{expected} actions; {doneAtKill} requests done when process A was killed; {delivered.Count} requests in all, " +
                         $"{keys} distinct Idempotency-Keys, {repeats} repeats of a request whose answer the killed process never recorded");
        Assert.Equal(expected, keys);
        Assert.Equal(expected, await Db.CountAsync(database, "SELECT count(*) FROM call_actions"));
        Assert.Equal(250, tickets.Requests.Select(r => r.CallId).Distinct().Count());
        // Only requests the killed process sent but had not recorded can repeat: at most one batch per worker
        // (a batch records its outcomes together when its sends are done).
        Assert.InRange(repeats, 0, workers * actionsPerJob);
        Assert.False(b.HasExited, b.RecentOutput);
    }

    private static async Task<HttpStatusCode[]> SendAllAsync(List<(string Id, string Status)> calls, AppProcess[] apps, string secret)
    {
        var clients = apps.Select(app => app.CreateClient()).ToArray();
        try
        {
            using var gate = new SemaphoreSlim(16);
            return await Task.WhenAll(calls.Select(async (call, i) =>
            {
                await gate.WaitAsync();
                try
                {
                    var body = Encoding.UTF8.GetBytes(MiniVoiceEvents.Event(call.Id, "call." + call.Status, call.Status, T0));
                    using var request = StandardWebhookSigner.Request(body, secret);
                    using var response = await clients[i % clients.Length].SendAsync(request);
                    return response.StatusCode;
                }
                finally
                {
                    gate.Release();
                }
            }));
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }
}
