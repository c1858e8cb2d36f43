using System.Net;
using WebhookReceiver.IntegrationTests.Infrastructure;
using static WebhookReceiver.IntegrationTests.Infrastructure.Hosts;

namespace WebhookReceiver.IntegrationTests.Delivery;

/// <summary>
/// Due actions share Hangfire jobs (Jobs:ActionsPerJob), first attempts and retries alike; whatever does not succeed
/// stays a row with its next attempt time, never a job of its own.
/// </summary>
public sealed class BatchTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);
    private const string BatchJobs = "SELECT count(*) FROM hangfire.job WHERE invocationdata->>'Type' LIKE '%.DeliveryJob,%'";

    [Fact]
    public async Task Forty_actions_committed_together_run_in_two_batch_jobs_and_each_is_sent_once()
    {
        await WithDatabaseAsync("wr_batch", async database =>
        {
            var calls = await IngestWithoutWorkersAsync(database, 40);
            await using var worker = await StartAsync(database, new Dictionary<string, string?> { ["Jobs:ActionsPerJob"] = "32" });

            await Eventually.WaitAsync(async () => await Db.CountAsync(database, "SELECT count(*) FROM call_actions WHERE state = 'succeeded'") == 40,
                TimeSpan.FromSeconds(30), "40 actions to succeed", () => Actions.DescribeAsync(database));
            Assert.Equal(2, await Db.CountAsync(database, BatchJobs));
            Assert.Equal(2, await Db.CountAsync(database, "SELECT count(DISTINCT job_id) FROM call_actions"));
            await Eventually.WaitAsync(async () => await Db.CountAsync(database, BatchJobs + " AND statename = 'Succeeded'") == 2,
                TimeSpan.FromSeconds(10), "both batch jobs to be Succeeded");
            foreach (var callId in calls)
            {
                var request = Assert.Single(worker.Crm.For(callId));
                Assert.StartsWith("crm.sync:", request.IdempotencyKey, StringComparison.Ordinal);
            }
            Assert.Equal(40, await Db.CountAsync(database, "SELECT count(*) FROM call_actions WHERE attempts = 1 AND last_error IS NULL"));
        });
    }

    [Fact]
    public async Task Failures_stay_rows_with_their_retry_count_and_cost_no_hangfire_job_each()
    {
        await WithDatabaseAsync("wr_batch_fail", async database =>
        {
            var calls = await IngestWithoutWorkersAsync(database, 25);
            var (permanent, exhausts, flaky) = (calls[0], calls[1], calls[2..]);
            var worker = new CustomReceiverFactory(database, new Dictionary<string, string?> { ["Crm:RatePerSecond"] = "0" });
            worker.Crm.Script(permanent, new StubReply(400));
            worker.Crm.Script(exhausts, Enumerable.Repeat(new StubReply(503), 10).ToArray());
            foreach (var callId in flaky)
            {
                worker.Crm.Script(callId, new StubReply(503), new StubReply(500), StubReply.Ok);
            }
            await worker.InitializeAsync();
            await using var _ = worker;

            foreach (var callId in calls)
            {
                await Actions.SettledAsync(database, callId);
            }
            // A 4xx fails at once.
            Assert.Equal(1, await Actions.CountAsync(database, permanent, "crm.sync", "failed"));
            Assert.Single(worker.Crm.For(permanent));
            // 1 + 4 configured retries, then failed.
            Assert.Equal(1, await Actions.CountAsync(database, exhausts, "crm.sync", "failed"));
            Assert.Equal(5, await Db.ScalarAsync<int>(database, "SELECT attempts FROM call_actions WHERE call_id = $1", exhausts));
            Assert.Equal(5, worker.Crm.For(exhausts).Count);
            // Each of the others: two failures, then one success, under one key and one body.
            foreach (var callId in flaky)
            {
                Assert.Equal(1, await Actions.CountAsync(database, callId, "crm.sync", "succeeded"));
                Assert.Equal(3, worker.Crm.For(callId).Count);
                Assert.Single(worker.Crm.For(callId).Select(r => (r.IdempotencyKey, r.Body.GetRawText())).Distinct());
            }
            // 51 failed attempts; the jobs are the batches that ran them (a handful of retry rounds), all of which did their work.
            var jobs = await Db.CountAsync(database, BatchJobs);
            Assert.InRange(jobs, 1, 15);
            // A job's last action settles a moment before Hangfire records the job itself Succeeded.
            await Eventually.WaitAsync(async () => await Db.CountAsync(database, BatchJobs + " AND statename = 'Succeeded'") == jobs,
                TimeSpan.FromSeconds(10), "every batch job to be Succeeded");
            Assert.Equal(jobs, await Db.CountAsync(database, "SELECT count(*) FROM hangfire.job"));
        });
    }

    [Fact]
    public async Task A_calls_later_action_waits_until_its_earlier_one_is_settled_whatever_batch_they_are_in()
    {
        await WithDatabaseAsync("wr_batch_order", async database =>
        {
            var callId = MiniVoiceEvents.NewCallId();
            await using (var api = await StartAsync(database, new Dictionary<string, string?> { ["Role"] = "api" }))
            {
                foreach (var (evt, at) in new[] { ("call.completed", T0), ("call.recording", T0.AddMinutes(1)) })
                {
                    using var response = await api.PostSignedAsync(MiniVoiceEvents.Event(callId, evt, "completed", at));
                    Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                }
            }
            var worker = new CustomReceiverFactory(database, new Dictionary<string, string?> { ["Jobs:ActionsPerJob"] = "1" });
            worker.Crm.Script(callId, new StubReply(500), StubReply.Ok, StubReply.Ok);
            await worker.InitializeAsync();
            await using var _ = worker;

            await Actions.SettledAsync(database, callId);

            var eventIds = (await Db.ScalarAsync<string>(database,
                "SELECT string_agg(event_id::text, ',' ORDER BY id) FROM call_actions WHERE call_id = $1", callId))!.Split(',');
            string[] expected = [$"crm.sync:{eventIds[0]}", $"crm.sync:{eventIds[0]}", $"crm.sync:{eventIds[1]}"];
            Assert.Equal(expected, worker.Crm.For(callId).Select(r => r.IdempotencyKey ?? "").ToArray());
        });
    }

    [Fact]
    public async Task While_ingest_is_busy_the_dispatcher_gives_way_but_never_for_longer_than_MaxYieldSeconds()
    {
        await WithDatabaseAsync("wr_yield", async database =>
        {
            // Any ingest counts as busy: while giving way nothing is handed out and events arrive at ~30/s, so the
            // backlog only clears if giving way stops after MaxYieldSeconds.
            await using var app = await StartAsync(database, new Dictionary<string, string?>
            {
                ["Jobs:YieldToIngestAbove"] = "1", ["Jobs:MaxYieldSeconds"] = "2", ["Jobs:ActionsPerJob"] = "1",
            });
            var sent = new List<string>();
            var started = DateTime.UtcNow;
            while (DateTime.UtcNow - started < TimeSpan.FromSeconds(8))
            {
                var callId = MiniVoiceEvents.NewCallId();
                using var response = await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                sent.Add(callId);
                await Task.Delay(30); // the sender's pace, ~30 events/s

            }
            var waitingAtEnd = await Db.CountAsync(database, "SELECT count(*) FROM call_actions WHERE state = 'pending'");

            // Gave way (work waited well past the usual few ms), but no longer than MaxYieldSeconds plus a round or two.
            var longestWait = await Db.ScalarAsync<double>(database,
                "SELECT max(extract(epoch FROM first_attempt_at - created_at))::float8 FROM call_actions");
            Assert.InRange(longestWait, 1.0, 4.0);
            Assert.True(waitingAtEnd < sent.Count / 2, $"{waitingAtEnd} of {sent.Count} actions still waiting when the burst ended");
            foreach (var callId in sent)
            {
                await Actions.SettledAsync(database, callId);
            }
            Assert.Equal(sent.Count, app.Crm.Requests.Count);
        });
    }

    [Fact]
    public async Task While_giving_way_the_dispatcher_polls_instead_of_running_a_round_per_commit()
    {
        await WithDatabaseAsync("wr_yield_poll", async database =>
        {
            // Every commit with work signals the dispatcher. While it gives way, none of that work can be handed out
            // before MaxYieldSeconds, so a round per signal is queries spent on the CPU the burst needs.
            await using var app = await StartAsync(database, new Dictionary<string, string?>
            {
                ["Jobs:YieldToIngestAbove"] = "1", ["Jobs:MaxYieldSeconds"] = "30", ["Jobs:PollIntervalMilliseconds"] = "200",
            });
            await WarmUpAsync(app);
            using var client = app.CreateClient();
            async Task<double> RoundsAsync(string givingWay) => PrometheusText.Parse(
                    await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)))
                .Sum("webhookreceiver_dispatch_rounds_total", ("giving_way", givingWay));

            var sent = 0;
            var started = DateTime.UtcNow;
            var before = await RoundsAsync("true");
            while (DateTime.UtcNow - started < TimeSpan.FromSeconds(4))
            {
                // Four events at once, each its own commit or a few together: a steady stream of new-work signals.
                var posts = Enumerable.Range(0, 4).Select(async _ =>
                {
                    using var response = await app.PostSignedAsync(
                        MiniVoiceEvents.Event(MiniVoiceEvents.NewCallId(), "call.completed", "completed", T0));
                    Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                });
                await Task.WhenAll(posts);
                sent += 4;
            }
            var rounds = await RoundsAsync("true") - before;
            var elapsed = DateTime.UtcNow - started;

            // At most one round per poll interval (200 ms) plus the 100 ms rate window, and a few to spare; the stream
            // above committed far more often than that (else the bound proves nothing).
            var bound = elapsed.TotalMilliseconds / 200 + 5;
            var commits = await Db.CountAsync(database, "SELECT count(DISTINCT received_at) FROM webhook_events");
            Assert.True(commits > 3 * bound, $"only {commits} commits in {elapsed.TotalSeconds:F1} s: not a stream of signals");
            Assert.True(rounds >= 1, "the dispatcher never gave way");
            Assert.True(rounds <= bound, $"{rounds} rounds while giving way for {elapsed.TotalSeconds:F1} s ({commits} commits)");
            Assert.Equal(sent, await Db.CountAsync(database, "SELECT count(*) FROM call_actions WHERE state = 'pending'"));
        });
    }

    [Fact]
    public async Task A_burst_after_a_quiet_spell_is_measured_before_any_of_its_work_is_handed_out()
    {
        await WithDatabaseAsync("wr_burst_start", async database =>
        {
            await using var app = await StartAsync(database, new Dictionary<string, string?>
            {
                ["Jobs:YieldToIngestAbove"] = "10", ["Jobs:MaxYieldSeconds"] = "30", ["Jobs:ActionsPerJob"] = "1",
            });
            // A warm host first (what this is about is the quiet spell, not JIT), then a quiet spell: the dispatcher's
            // last rate sample reads no load.
            await WarmUpAsync(app);
            await Task.Delay(1500); // longer than the dispatcher's hold after a burst

            // Up to ~100 events/s for about half a second, well above the threshold. The first commit wakes the dispatcher; a rate read
            // from the quiet moment before it would hand the first events out at once (and keep doing so until its
            // next sample) - in a real burst, on the CPU the burst's requests need.
            var sent = await PaceCompletedAsync(app, 40);
            await AssertNoneWentOutDuringTheBurstAsync(app, database, sent);
        });
    }

    [Fact]
    public async Task A_short_pause_inside_a_burst_does_not_end_giving_way()
    {
        await WithDatabaseAsync("wr_burst_pause", async database =>
        {
            await using var app = await StartAsync(database, new Dictionary<string, string?>
            {
                ["Jobs:YieldToIngestAbove"] = "5", ["Jobs:MaxYieldSeconds"] = "30", ["Jobs:ActionsPerJob"] = "1",
            });
            // Two halves of one burst with a stall between them (as a GC pause or a checkpoint makes): the stall spans
            // whole rate samples that read no load, yet the first half's work must not go out on the second half's CPU.
            await WarmUpAsync(app);
            await Task.Delay(1500);
            var sent = await PaceCompletedAsync(app, 30);
            await Task.Delay(400);
            sent.AddRange(await PaceCompletedAsync(app, 30));
            await AssertNoneWentOutDuringTheBurstAsync(app, database, sent);
        });
    }

    /// <summary>One completed event (one crm.sync) per new call, every ~10 ms: a burst well above the tests' thresholds.</summary>
    private static async Task<List<string>> PaceCompletedAsync(CustomReceiverFactory app, int count)
    {
        var sent = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var callId = MiniVoiceEvents.NewCallId();
            using var response = await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            sent.Add(callId);
            await Task.Delay(10);
        }
        return sent;
    }

    /// <summary>
    /// Every action of <paramref name="sent"/> succeeds once, and none had its first attempt before the burst's last commit.
    /// </summary>
    private static async Task AssertNoneWentOutDuringTheBurstAsync(CustomReceiverFactory app, string database, List<string> sent)
    {
        foreach (var callId in sent)
        {
            await Actions.SettledAsync(database, callId);
        }
        var handedOutDuringBurst = await Db.CountAsync(database,
            "SELECT count(*) FROM call_actions WHERE first_attempt_at <= (SELECT max(created_at) FROM call_actions)");
        // One may slip through: a dispatch round already under way when the first event committed.
        Assert.InRange(handedOutDuringBurst, 0, 1);
        Assert.Equal(sent.Count, app.Crm.Requests.Count);
    }

    /// <summary>
    /// A few events through a fresh host, none of them work (ringing): a cold host answers its first requests slower
    /// than a burst's pace (JIT), which reads as no load, and what the tests above are about is not JIT.
    /// </summary>
    private static async Task WarmUpAsync(CustomReceiverFactory app)
    {
        var callId = MiniVoiceEvents.NewCallId();
        for (var i = 0; i < 3; i++)
        {
            using var response = await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.ringing", "ringing", T0.AddSeconds(i)));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
    }

    /// <summary>Commits one completed event (one crm.sync) for each of <paramref name="count"/> calls with no worker running.</summary>
    private static async Task<string[]> IngestWithoutWorkersAsync(string database, int count)
    {
        var calls = Enumerable.Range(0, count).Select(_ => MiniVoiceEvents.NewCallId()).ToArray();
        await using var api = await StartAsync(database, new Dictionary<string, string?> { ["Role"] = "api" });
        foreach (var callId in calls)
        {
            using var response = await api.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        return calls;
    }
}
