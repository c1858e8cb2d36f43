using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WebhookReceiver.IntegrationTests.Infrastructure;
using static WebhookReceiver.IntegrationTests.Infrastructure.Hosts;
using WebhookReceiver.Jobs;

namespace WebhookReceiver.IntegrationTests.Delivery;

/// <summary>
/// Destinations protect the systems behind us (README "Destinations"): circuit breaker with one probe at a time, Retry-After
/// holding the whole destination, pause and resume, and a rate and a concurrency cap shared by every process on the
/// database. Each test runs hosts of its own, with the settings it needs.
/// </summary>
public sealed class DestinationTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Failures_in_a_row_open_the_breaker_then_one_probe_at_a_time_decides_and_the_wait_uses_up_no_retries()
    {
        await WithDatabaseAsync("wr_breaker", async database =>
        {
            var calls = await IngestWithoutWorkersAsync(database, 20);
            var worker = new CustomReceiverFactory(database, new Dictionary<string, string?>
            {
                ["Crm:Breaker:FailuresToOpen"] = "5",
                ["Crm:Breaker:OpenSeconds"] = "2",
                ["Crm:RatePerSecond"] = "0", // a whole wave of SendParallelism requests goes out at once
                // Two retries of 1 s: an action that waited through the open periods (6 s) would have used them up.
                ["Jobs:RetryDelaysSeconds:2"] = null,
                ["Jobs:RetryDelaysSeconds:3"] = null,
            });
            foreach (var callId in calls)
            {
                worker.Crm.Script(callId, Enumerable.Repeat(new StubReply(503), 50).ToArray());
            }
            await worker.InitializeAsync();
            await using var _ = worker;
            var jobs = worker.Services.GetRequiredService<IOptions<JobsOptions>>().Value;
            Assert.Equal(2, jobs.EffectiveRetryDelaysSeconds.Length);

            // Opens: no more than the failures that opened it plus the wave that was already on its way.
            var open = await DestinationApi.WaitForAsync(worker, "crm", d => d.GetProperty("state").GetString() == "open", "the breaker to open");
            var firstOpenUntil = open.GetProperty("open_until").GetDateTimeOffset();
            Assert.True(open.GetProperty("consecutive_failures").GetInt32() >= 5, open.ToString());
            Assert.Equal("crm", open.GetProperty("name").GetString());
            var wave = worker.Crm.Requests.Where(r => r.ReceivedAt < firstOpenUntil).ToList();
            Assert.InRange(wave.Count, 5, 5 + jobs.SendParallelism);
            Assert.InRange((firstOpenUntil - wave.Max(r => r.FinishedAt)).TotalSeconds, 1.9, 3.5);

            // Its time up, one probe: it fails, and the breaker opens again for twice as long.
            var reopened = await DestinationApi.WaitForAsync(worker, "crm",
                d => d.GetProperty("state").GetString() == "open" && d.GetProperty("open_until").GetDateTimeOffset() > firstOpenUntil.AddSeconds(1),
                "the failed probe to open the breaker again");
            var secondOpenUntil = reopened.GetProperty("open_until").GetDateTimeOffset();
            var probe = Assert.Single(worker.Crm.Requests, r => r.ReceivedAt >= firstOpenUntil);
            Assert.Equal(503, probe.AnsweredStatus);
            Assert.InRange((secondOpenUntil - probe.FinishedAt).TotalSeconds, 3.9, 5.5);
            Assert.Equal(4, await Db.ScalarAsync<int>(database, "SELECT open_seconds FROM delivery_destinations WHERE name = 'crm'"));
            Assert.Equal(wave.Count + 1, worker.Crm.Requests.Count);

            // The CRM is well again: the next probe closes the breaker and everything drains, each action once.
            foreach (var callId in calls)
            {
                worker.Crm.Script(callId);
            }
            await Eventually.WaitAsync(async () => await Db.CountAsync(database, "SELECT count(*) FROM call_actions WHERE state = 'succeeded'") == 20,
                TimeSpan.FromSeconds(30), "all 20 actions to succeed", () => Actions.DescribeAsync(database));
            var closed = await DestinationApi.GetAsync(worker, "crm");
            Assert.Equal("closed", closed.GetProperty("state").GetString());
            Assert.Equal(0, closed.GetProperty("consecutive_failures").GetInt32());
            Assert.Equal(0, closed.GetProperty("pending").GetInt64());
            var secondProbe = worker.Crm.Requests.Where(r => r.ReceivedAt >= firstOpenUntil).OrderBy(r => r.ReceivedAt).ElementAt(1);
            Assert.True(secondProbe.ReceivedAt >= secondOpenUntil, $"second probe at {secondProbe.ReceivedAt:O}, open until {secondOpenUntil:O}");
            foreach (var callId in calls)
            {
                var requests = worker.Crm.For(callId);
                Assert.Single(requests, r => r.AnsweredStatus == 200);
                Assert.Equal(requests.Count, await Db.ScalarAsync<int>(database, "SELECT attempts FROM call_actions WHERE call_id = $1", callId));
            }
            // The first wave failed at once, then waited ~6 s through two open periods with 1-s retry delays and a budget of
            // two retries: waiting was not counted, so each succeeded on its second attempt.
            foreach (var callId in wave.Select(r => r.CallId!))
            {
                Assert.Equal(2, await Db.ScalarAsync<int>(database, "SELECT attempts FROM call_actions WHERE call_id = $1", callId));
                Assert.True(await Db.ScalarAsync<double>(database,
                    "SELECT extract(epoch FROM completed_at - first_attempt_at)::float8 FROM call_actions WHERE call_id = $1", callId) > 5.5);
            }
        });
    }

    [Fact]
    public async Task When_the_open_time_ends_before_any_work_is_due_the_probe_goes_out_as_soon_as_work_is_due()
    {
        // Open for 1 s, but the one failed action's retry is due only after 2.4-3.6 s: the turn to probe must wait for
        // due work rather than be spent on nothing (which would hold every send back for a whole lease, here 10 s).
        await using var host = await StartAsync(null, new Dictionary<string, string?>
        {
            ["Crm:Breaker:FailuresToOpen"] = "1",
            ["Crm:Breaker:OpenSeconds"] = "1",
            ["Jobs:RetryDelaysSeconds:0"] = "3",
        });
        var callId = MiniVoiceEvents.NewCallId();
        host.Crm.Script(callId, new StubReply(503));

        await PostEventAsync(host, MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
        var open = await DestinationApi.WaitForAsync(host, "crm", d => d.GetProperty("state").GetString() == "open", "the breaker to open");
        var dueAt = await Db.ScalarAsync<DateTime>(host.ConnectionString, "SELECT next_attempt_at FROM call_actions WHERE call_id = $1", callId);
        Assert.True(dueAt > open.GetProperty("open_until").GetDateTimeOffset().UtcDateTime.AddSeconds(1), "the retry is due well after the open time ends");

        await Actions.SettledAsync(host.ConnectionString, callId);

        var requests = host.Crm.For(callId);
        Assert.Equal(2, requests.Count);
        var late = (requests[1].ReceivedAt - new DateTimeOffset(dueAt, TimeSpan.Zero)).TotalSeconds;
        Assert.True(late < 2, $"the probe went out {late:0.0} s after its action was due");
        Assert.Equal("closed", (await DestinationApi.GetAsync(host, "crm")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_429_with_Retry_After_holds_the_whole_destination_and_another_calls_due_action_waits_for_it()
    {
        await using var host = await StartAsync(null, new Dictionary<string, string?> { ["Crm:RatePerSecond"] = "0" });
        var (refusedCall, otherCall) = (MiniVoiceEvents.NewCallId(), MiniVoiceEvents.NewCallId());
        host.Crm.Script(refusedCall, new StubReply(429, RetryAfter: TimeSpan.FromSeconds(3)));

        await PostEventAsync(host, MiniVoiceEvents.Event(refusedCall, "call.completed", "completed", T0));
        var held = await DestinationApi.WaitForAsync(host, "crm", d => d.GetProperty("hold_until").ValueKind != JsonValueKind.Null,
            "the 429 to hold the CRM");
        var holdUntil = held.GetProperty("hold_until").GetDateTimeOffset();
        var refused = Assert.Single(host.Crm.For(refusedCall));
        Assert.Equal(429, refused.AnsweredStatus);
        Assert.InRange((holdUntil - refused.FinishedAt).TotalSeconds, 2.9, 4.5);
        Assert.Equal("closed", held.GetProperty("state").GetString()); // a hold is not the breaker

        var postedAt = DateTimeOffset.UtcNow;
        await PostEventAsync(host, MiniVoiceEvents.Event(otherCall, "call.completed", "completed", T0));
        Assert.True(postedAt < holdUntil.AddSeconds(-1), "the other call's action became due while the hold lasted");

        await Actions.SettledAsync(host.ConnectionString, otherCall);
        await Actions.SettledAsync(host.ConnectionString, refusedCall);
        var other = Assert.Single(host.Crm.For(otherCall));
        Assert.True(other.ReceivedAt >= holdUntil, $"sent at {other.ReceivedAt:O}, held until {holdUntil:O}");
        var retried = host.Crm.For(refusedCall);
        Assert.Equal(2, retried.Count);
        Assert.True(retried[1].ReceivedAt >= holdUntil, $"retry sent at {retried[1].ReceivedAt:O}, held until {holdUntil:O}");
        Assert.Equal(1, await Db.ScalarAsync<int>(host.ConnectionString, "SELECT attempts FROM call_actions WHERE call_id = $1", otherCall));
        Assert.Equal(JsonValueKind.Null, (await DestinationApi.GetAsync(host, "crm")).GetProperty("hold_until").ValueKind);
    }

    [Fact]
    public async Task While_the_crm_is_paused_its_work_waits_as_pending_without_using_attempts_and_drains_once_on_resume()
    {
        await using var host = await StartAsync(null, new Dictionary<string, string?>());
        using (var pause = await DestinationApi.PostAsync(host, "/destinations/crm/pause"))
        {
            Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
            var answer = await pause.JsonAsync();
            Assert.Equal("crm", answer.GetProperty("name").GetString());
            Assert.Equal("paused", answer.GetProperty("status").GetString());
            Assert.True(answer.GetProperty("changed").GetBoolean());
        }
        using (var again = await DestinationApi.PostAsync(host, "/destinations/crm/pause"))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.False((await again.JsonAsync()).GetProperty("changed").GetBoolean());
        }
        var paused = await DestinationApi.GetAsync(host, "crm");
        Assert.Equal("paused", paused.GetProperty("state").GetString());
        Assert.True(paused.GetProperty("paused").GetBoolean());
        Assert.Equal("local", paused.GetProperty("paused_by").GetString());
        Assert.Equal("closed", paused.GetProperty("breaker").GetString());
        Assert.Equal("closed", (await DestinationApi.GetAsync(host, "tickets")).GetProperty("state").GetString());

        // Busy calls: a crm.sync (paused) and a ticket.create (not paused) each.
        var calls = Enumerable.Range(0, 5).Select(_ => MiniVoiceEvents.NewCallId()).ToArray();
        foreach (var callId in calls)
        {
            await PostEventAsync(host, MiniVoiceEvents.Event(callId, "call.busy", "busy", T0));
        }
        // The dispatcher is running: the ticket system gets its tickets while the CRM is paused.
        foreach (var callId in calls)
        {
            await Eventually.WaitAsync(async () => await Actions.CountAsync(host.ConnectionString, callId, "ticket.create", "succeeded") == 1,
                TimeSpan.FromSeconds(20), $"{callId}'s ticket while the CRM is paused", () => Actions.DescribeAsync(host.ConnectionString));
        }
        await DestinationApi.WaitForAsync(host, "crm",
            d => (d.GetProperty("pending").GetInt64() == 5 && d.GetProperty("due").GetInt64() == 5) || host.Crm.Requests.Count > 0,
            "5 crm.sync pending and due");
        Assert.Empty(host.Crm.Requests);
        // Nothing happened within several dispatcher rounds (Jobs:PollIntervalMilliseconds is 200): a bounded wait is
        // the only way to observe that something does NOT happen.
        await NothingHappensWithinAsync(TimeSpan.FromSeconds(1.5));
        Assert.Empty(host.Crm.Requests);
        Assert.Equal(5, await Db.CountAsync(host.ConnectionString,
            "SELECT count(*) FROM call_actions WHERE action = 'crm.sync' AND state = 'pending' AND attempts = 0 AND job_id IS NULL"));
        Assert.Equal(5, (await DestinationApi.GetAsync(host, "crm")).GetProperty("pending").GetInt64());

        using (var resume = await DestinationApi.PostAsync(host, "/destinations/crm/resume"))
        {
            Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
            var answer = await resume.JsonAsync();
            Assert.Equal("resumed", answer.GetProperty("status").GetString());
            Assert.True(answer.GetProperty("changed").GetBoolean());
        }
        foreach (var callId in calls)
        {
            await Actions.SettledAsync(host.ConnectionString, callId);
            Assert.Single(host.Crm.For(callId));
            Assert.Single(host.Tickets.For(callId));
            Assert.Equal(1, await Actions.CountAsync(host.ConnectionString, callId, "crm.sync", "succeeded"));
        }
        Assert.Equal(5, await Db.CountAsync(host.ConnectionString, "SELECT count(*) FROM call_actions WHERE action = 'crm.sync' AND attempts = 1"));
        var resumed = await DestinationApi.GetAsync(host, "crm");
        Assert.Equal("closed", resumed.GetProperty("state").GetString());
        Assert.False(resumed.GetProperty("paused").GetBoolean());
        Assert.Equal(0, resumed.GetProperty("pending").GetInt64());
        using var resumeAgain = await DestinationApi.PostAsync(host, "/destinations/crm/resume");
        Assert.False((await resumeAgain.JsonAsync()).GetProperty("changed").GetBoolean());
    }

    [Fact]
    public async Task Pausing_or_resuming_an_unknown_destination_is_a_404_problem()
    {
        await using var host = await StartAsync(null, new Dictionary<string, string?>());
        foreach (var path in new[] { "/destinations/billing/pause", "/destinations/billing/resume" })
        {
            using var response = await DestinationApi.PostAsync(host, path);

            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var detail = (await response.JsonAsync()).GetProperty("detail").GetString();
            Assert.Contains("billing", detail, StringComparison.Ordinal);
            Assert.Contains("crm", detail, StringComparison.Ordinal);
        }
        var names = (await host.GetJsonAsync("/destinations")).GetProperty("items").EnumerateArray().Select(d => d.GetProperty("name").GetString());
        Assert.Equal(["crm", "tickets"], names);
    }

    [Fact]
    public async Task Two_processes_on_one_database_share_one_rate_limit()
    {
        const int Rate = 20;
        const int Count = 60;
        await using var crm = new IntegrationStub();
        await crm.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Crm:BaseUrl"] = crm.BaseUrl,
            ["Crm:RatePerSecond"] = $"{Rate}",
            ["Jobs:ActionsPerJob"] = "5",
            ["Jobs:WorkerCount"] = "2",
        };
        await using var first = await StartAsync(null, settings);
        await using var second = await StartAsync(first.ConnectionString, settings);
        await DrainThroughBothAsync(first, second, crm, Count);

        var times = crm.Requests.Select(r => r.ReceivedAt).Order().ToList();
        Assert.Equal(Count, times.Count);
        var busiestSecond = times.Select((start, i) => times.Skip(i).TakeWhile(t => t - start < TimeSpan.FromSeconds(1)).Count()).Max();
        Assert.True(busiestSecond <= (Rate * 1.05) + 1, $"{busiestSecond} requests within one second at a rate of {Rate}/s");
        // The bucket holds one request (5 % of 20/s): the other 59 wait for the rate.
        var drain = (times[^1] - times[0]).TotalSeconds;
        Assert.True(drain >= ((Count - 1.0) / Rate) - 0.2, $"{Count} requests went out within {drain:0.00} s");
        Assert.Equal(Count, crm.Requests.Select(r => r.IdempotencyKey).Distinct().Count());
        Assert.Equal(2, await ServersThatSentAsync(first.ConnectionString));
    }

    [Fact]
    public async Task Two_processes_on_one_database_never_have_more_than_MaxConcurrency_requests_in_flight()
    {
        const int Count = 20;
        await using var crm = new IntegrationStub();
        await crm.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Crm:BaseUrl"] = crm.BaseUrl,
            ["Crm:MaxConcurrency"] = "2",
            ["Crm:RatePerSecond"] = "0",
            ["Jobs:ActionsPerJob"] = "2",
            ["Jobs:WorkerCount"] = "2",
        };
        await using var first = await StartAsync(null, settings);
        await using var second = await StartAsync(first.ConnectionString, settings);
        var calls = await DrainThroughBothAsync(first, second, crm, Count, new StubReply(Delay: TimeSpan.FromMilliseconds(200)));

        Assert.Equal(Count, crm.Requests.Count);
        Assert.All(calls, callId => Assert.Single(crm.For(callId)));
        Assert.Equal(2, MaxOverlap(crm.Requests));
        Assert.Equal(2, await ServersThatSentAsync(first.ConnectionString));
    }

    /// <summary>
    /// With the CRM paused, ingests <paramref name="count"/> completed calls through the first host, then resumes it
    /// through the second: both processes' workers drain the backlog together. Returns the call ids.
    /// </summary>
    private static async Task<string[]> DrainThroughBothAsync(ReceiverFactory first, ReceiverFactory second, IntegrationStub crm, int count,
        StubReply? reply = null)
    {
        using (var pause = await DestinationApi.PostAsync(first, "/destinations/crm/pause"))
        {
            Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        }
        var calls = Enumerable.Range(0, count).Select(_ => MiniVoiceEvents.NewCallId()).ToArray();
        foreach (var callId in calls)
        {
            if (reply is not null)
            {
                crm.Script(callId, reply);
            }
            await PostEventAsync(first, MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
        }
        await DestinationApi.WaitForAsync(second, "crm", d => d.GetProperty("pending").GetInt64() == count, $"{count} actions pending");
        using (var resume = await DestinationApi.PostAsync(second, "/destinations/crm/resume"))
        {
            Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        }
        await Eventually.WaitAsync(async () => await Db.CountAsync(first.ConnectionString, "SELECT count(*) FROM call_actions WHERE state = 'succeeded'") == count,
            TimeSpan.FromSeconds(30), $"{count} actions to succeed", () => Actions.DescribeAsync(first.ConnectionString));
        return calls;
    }

    /// <summary>How many Hangfire servers (processes) ran the batches that attempted the actions last.</summary>
    private static Task<long> ServersThatSentAsync(string database) => Db.CountAsync(database,
        "SELECT count(DISTINCT s.data::jsonb ->> 'ServerId') FROM call_actions a JOIN hangfire.state s ON s.jobid = a.job_id::bigint " +
        "WHERE s.name = 'Processing'");

    /// <summary>The most requests the stub was handling at one moment (an answer that ends as another starts does not overlap it).</summary>
    private static int MaxOverlap(IEnumerable<StubRequest> requests)
    {
        var (current, max) = (0, 0);
        foreach (var (_, delta) in requests.SelectMany(r => new[] { (r.ReceivedAt, 1), (r.FinishedAt, -1) }).OrderBy(e => e.Item1).ThenBy(e => e.Item2))
        {
            current += delta;
            max = Math.Max(max, current);
        }
        return max;
    }

    /// <summary>A bounded wait used only to show that something does NOT happen within it (never to wait for something that does).</summary>
    private static Task NothingHappensWithinAsync(TimeSpan window) => Task.Delay(window);

    internal static async Task PostEventAsync(ReceiverFactory host, string json)
    {
        using var response = await host.PostSignedAsync(json);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>Commits one completed event (one crm.sync) for each of <paramref name="count"/> calls with no worker running.</summary>
    private static async Task<string[]> IngestWithoutWorkersAsync(string database, int count)
    {
        var calls = Enumerable.Range(0, count).Select(_ => MiniVoiceEvents.NewCallId()).ToArray();
        await using var api = await StartAsync(database, new Dictionary<string, string?> { ["Role"] = "api" });
        foreach (var callId in calls)
        {
            await PostEventAsync(api, MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
        }
        return calls;
    }
}

/// <summary>GET /destinations and the pause/resume endpoints, as an operator calls them (local requests need no credentials).</summary>
internal static class DestinationApi
{
    public static async Task<JsonElement> GetAsync(ReceiverFactory host, string name) =>
        (await host.GetJsonAsync("/destinations")).GetProperty("items").EnumerateArray().Single(d => d.GetProperty("name").GetString() == name);

    /// <summary>Waits until the destination's GET /destinations entry meets the condition; returns that entry.</summary>
    public static async Task<JsonElement> WaitForAsync(ReceiverFactory host, string name, Func<JsonElement, bool> condition, string what,
        TimeSpan? timeout = null)
    {
        var last = default(JsonElement);
        await Eventually.WaitAsync(async () => condition(last = await GetAsync(host, name)), timeout ?? TimeSpan.FromSeconds(30), what,
            async () => $"{last} / {await Actions.DescribeAsync(host.ConnectionString)}");
        return last;
    }

    public static async Task<HttpResponseMessage> PostAsync(ReceiverFactory host, string path, object? body = null)
    {
        using var client = host.CreateClient();
        return body is null
            ? await client.PostAsync(new Uri(path, UriKind.Relative), null)
            : await client.PostAsJsonAsync(new Uri(path, UriKind.Relative), body);
    }
}
