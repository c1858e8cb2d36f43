using System.Net;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Delivery;

/// <summary>
/// Alerts (README "Destinations"): a destination opening, closing, paused or resumed, and actions running out of retries post
/// <c>{"text": …}</c> to Alerts:WebhookUrl — at most one per destination and kind every Alerts:MinIntervalMinutes
/// (default 10), across processes. The alert webhook is a stub that records what it gets.
/// </summary>
public sealed class AlertTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task The_breaker_opening_posts_one_alert_though_it_opens_again_and_closing_posts_one()
    {
        await using var alerts = await StartAlertStubAsync();
        await using var host = await Hosts.StartAsync(null, new Dictionary<string, string?>
        {
            ["Alerts:WebhookUrl"] = alerts.BaseUrl + "/alerts",
            ["Crm:Breaker:FailuresToOpen"] = "1",
            ["Crm:Breaker:OpenSeconds"] = "1",
        });
        var callId = MiniVoiceEvents.NewCallId();
        // Opens at the first 503, the probe's 503 opens it again (for 2 s), the next probe closes it.
        host.Crm.Script(callId, new StubReply(503), new StubReply(503), StubReply.Ok);

        await DestinationTests.PostEventAsync(host, MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
        await Actions.SettledAsync(host.ConnectionString, callId);
        await Eventually.WaitAsync(() => Texts(alerts, "circuit breaker closed").Count == 1, TimeSpan.FromSeconds(10), "the breaker-closed alert");

        var requests = host.Crm.For(callId);
        Assert.Equal(3, requests.Count);
        Assert.True((requests[2].ReceivedAt - requests[1].FinishedAt).TotalSeconds >= 1.9, "the failed probe opened the breaker again, for twice as long");
        var opened = Assert.Single(Texts(alerts, "circuit breaker opened"));
        Assert.StartsWith("WebhookReceiver: crm:", opened, StringComparison.Ordinal);
        Assert.StartsWith("WebhookReceiver: crm:", Texts(alerts, "circuit breaker closed")[0], StringComparison.Ordinal);
        Assert.Equal(2, alerts.Requests.Count);
        Assert.All(alerts.Requests, r => Assert.Equal("/alerts", r.Path));
    }

    [Fact]
    public async Task Pausing_and_resuming_again_and_again_posts_one_alert_of_each_kind_per_destination_across_processes()
    {
        await using var alerts = await StartAlertStubAsync();
        var settings = new Dictionary<string, string?> { ["Alerts:WebhookUrl"] = alerts.BaseUrl + "/alerts" };
        await using var first = await Hosts.StartAsync(null, settings);
        await using var second = await Hosts.StartAsync(first.ConnectionString, settings);

        await ChangeAsync(first, "pause");
        // Sent beside the answer (the operator's request never waits on a slow chat webhook).
        await Eventually.WaitAsync(() => alerts.Requests.Count == 1, TimeSpan.FromSeconds(10), "the paused alert");
        Assert.Contains("crm paused by local", alerts.Requests[0].Body.GetProperty("text").GetString(), StringComparison.Ordinal);
        await ChangeAsync(first, "resume");
        await Eventually.WaitAsync(() => Texts(alerts, "crm resumed").Count == 1, TimeSpan.FromSeconds(10), "the resumed alert");
        await ChangeAsync(first, "pause");
        await ChangeAsync(second, "resume");
        await ChangeAsync(second, "pause");
        await ChangeAsync(first, "resume");

        Assert.Single(Texts(alerts, "crm paused"));
        Assert.Single(Texts(alerts, "crm resumed"));
        Assert.Equal(2, alerts.Requests.Count);

        // The limit is per destination: the ticket system's pause is news (and arrives after every earlier change's turn).
        await ChangeAsync(second, "pause", "tickets");
        await Eventually.WaitAsync(() => Texts(alerts, "tickets paused").Count == 1, TimeSpan.FromSeconds(10), "the tickets paused alert");
        Assert.Single(Texts(alerts, "crm paused"));
        Assert.Single(Texts(alerts, "crm resumed"));
        Assert.Contains("tickets paused by local", Assert.Single(Texts(alerts, "tickets paused")), StringComparison.Ordinal);
        Assert.Equal(3, alerts.Requests.Count);
    }

    [Fact]
    public async Task Actions_running_out_of_retries_post_one_exhausted_alert()
    {
        await using var alerts = await StartAlertStubAsync();
        await using var host = await Hosts.StartAsync(null, new Dictionary<string, string?>
        {
            ["Alerts:WebhookUrl"] = alerts.BaseUrl + "/alerts",
            // One retry of 1 s: each action fails for good at its second attempt.
            ["Jobs:RetryDelaysSeconds:1"] = null,
            ["Jobs:RetryDelaysSeconds:2"] = null,
            ["Jobs:RetryDelaysSeconds:3"] = null,
        });
        // One call after the other: each runs out of retries in a batch of its own.
        var calls = new[] { MiniVoiceEvents.NewCallId(), MiniVoiceEvents.NewCallId() };
        foreach (var callId in calls)
        {
            host.Crm.Script(callId, Enumerable.Repeat(new StubReply(500), 5).ToArray());
            await DestinationTests.PostEventAsync(host, MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
            await Actions.SettledAsync(host.ConnectionString, callId);
            Assert.Equal(1, await Actions.CountAsync(host.ConnectionString, callId, "crm.sync", "failed"));
            Assert.Equal(2, host.Crm.For(callId).Count);
            // Every batch that attempted it has finished (a batch sends its alerts before it returns).
            await Eventually.WaitAsync(async () => await Db.CountAsync(host.ConnectionString,
                    "SELECT count(*) FROM hangfire.job WHERE invocationdata->>'Type' LIKE '%.DeliveryJob,%' AND statename IS DISTINCT FROM 'Succeeded'") == 0,
                TimeSpan.FromSeconds(10), "every batch job to finish");
        }
        Assert.NotEqual(await Actions.JobIdAsync(host.ConnectionString, calls[0], "crm.sync"), await Actions.JobIdAsync(host.ConnectionString, calls[1], "crm.sync"));

        var exhausted = Assert.Single(alerts.Requests);
        var text = exhausted.Body.GetProperty("text").GetString()!;
        Assert.StartsWith("WebhookReceiver: crm:", text, StringComparison.Ordinal);
        Assert.Contains("ran out of retries", text, StringComparison.Ordinal);
        Assert.Contains(calls[0], text, StringComparison.Ordinal);
    }

    private static async Task<IntegrationStub> StartAlertStubAsync()
    {
        var stub = new IntegrationStub();
        await stub.StartAsync();
        return stub;
    }

    private static List<string> Texts(IntegrationStub alerts, string containing) =>
        alerts.Requests.Select(r => r.Body.GetProperty("text").GetString()!).Where(t => t.Contains(containing, StringComparison.Ordinal)).ToList();

    private static async Task ChangeAsync(ReceiverFactory host, string change, string destination = "crm")
    {
        using var response = await DestinationApi.PostAsync(host, $"/destinations/{destination}/{change}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("changed").GetBoolean(), $"{change} {destination} changed it");
    }
}
