using System.Net;
using Npgsql;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Jobs;

/// <summary>
/// First attempts share Hangfire jobs (Jobs:ActionsPerJob); whatever does not succeed in a batch continues as a
/// job of its own, so each failing action stays visible and retryable by itself.
/// </summary>
public sealed class BatchJobTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);
    private const string BatchJobs = "SELECT count(*) FROM hangfire.job WHERE invocationdata->>'Type' LIKE '%.CallActionBatchJob,%'";
    private const string SingleJobOf = "SELECT j.invocationdata->>'Type' LIKE '%.CallActionJob,%' AND j.statename = $2 " +
                                       "FROM call_actions a JOIN hangfire.job j ON j.id = a.job_id::bigint WHERE a.call_id = $1";

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
    public async Task Failures_leave_the_batch_as_their_own_jobs_and_keep_the_retry_count()
    {
        await WithDatabaseAsync("wr_batch_fail", async database =>
        {
            var calls = await IngestWithoutWorkersAsync(database, 5);
            var (permanent, recovers, exhausts) = (calls[0], calls[1], calls[2]);
            var worker = new CustomReceiverFactory(database, new Dictionary<string, string?>());
            worker.Crm.Script(permanent, new StubReply(400));
            worker.Crm.Script(recovers, new StubReply(503), StubReply.Ok);
            worker.Crm.Script(exhausts, Enumerable.Repeat(new StubReply(503), 10).ToArray());
            await worker.InitializeAsync();
            await using var _ = worker;

            foreach (var callId in calls)
            {
                await Actions.SettledAsync(database, callId);
            }
            // A 4xx fails at once, as a Failed job of its own (retryable from the dashboard).
            Assert.Equal(1, await Actions.CountAsync(database, permanent, "crm.sync", "failed"));
            Assert.True(await Db.ScalarAsync<bool>(database, SingleJobOf, permanent, "Failed"));
            Assert.Single(worker.Crm.For(permanent));
            // A 503 is retried by a job of its own, with the same key.
            Assert.Equal(1, await Actions.CountAsync(database, recovers, "crm.sync", "succeeded"));
            Assert.True(await Db.ScalarAsync<bool>(database, SingleJobOf, recovers, "Succeeded"));
            Assert.Single(worker.Crm.For(recovers).Select(r => r.IdempotencyKey).Distinct());
            // The batch's attempt counts as the first: 1 + 4 configured retries, then Failed.
            await Eventually.WaitAsync(async () => await Db.ScalarAsync<bool>(database, SingleJobOf, exhausts, "Failed"),
                TimeSpan.FromSeconds(20), "the exhausted job to be Failed");
            Assert.Equal(1, await Actions.CountAsync(database, exhausts, "crm.sync", "failed"));
            Assert.Equal(5, await Db.ScalarAsync<int>(database, "SELECT attempts FROM call_actions WHERE call_id = $1", exhausts));
            Assert.Equal(5, worker.Crm.For(exhausts).Count);
            // The others succeeded inside the batch.
            foreach (var callId in calls[3..])
            {
                Assert.Equal(1, await Actions.CountAsync(database, callId, "crm.sync", "succeeded"));
                Assert.Single(worker.Crm.For(callId));
            }
            await Eventually.WaitAsync(async () => await Db.CountAsync(database, BatchJobs + " AND statename = 'Succeeded'") == 1,
                TimeSpan.FromSeconds(10), "the batch job to be Succeeded");
        });
    }

    [Fact]
    public async Task An_action_whose_call_is_busy_in_another_job_waits_in_a_job_of_its_own()
    {
        await WithDatabaseAsync("wr_batch_busy", async database =>
        {
            var calls = await IngestWithoutWorkersAsync(database, 2);
            var (busy, free) = (calls[0], calls[1]);
            await using var holder = new NpgsqlConnection(database);
            await holder.OpenAsync();
            await using (var take = new NpgsqlCommand("SELECT pg_advisory_lock(hashtextextended('call:' || $1, 0))", holder))
            {
                take.Parameters.AddWithValue(busy);
                await take.ExecuteNonQueryAsync();
            }
            await using var worker = await StartAsync(database, new Dictionary<string, string?>());

            await Actions.SettledAsync(database, free);
            await Eventually.WaitAsync(async () => await Db.ScalarAsync<bool>(database, SingleJobOf, busy, "Processing"),
                TimeSpan.FromSeconds(20), "the busy call's action to wait in its own job", () => Actions.DescribeAsync(database));
            Assert.Empty(worker.Crm.For(busy));

            await using (var release = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", holder))
            {
                await release.ExecuteNonQueryAsync();
            }
            await Actions.SettledAsync(database, busy);
            Assert.Single(worker.Crm.For(busy));
            Assert.Equal(1, await Db.ScalarAsync<int>(database, "SELECT attempts FROM call_actions WHERE call_id = $1", busy));
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
                "SELECT max(extract(epoch FROM dispatched_at - created_at))::float8 FROM call_actions");
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
    public async Task A_burst_after_a_quiet_spell_is_measured_before_any_of_its_work_is_handed_out()
    {
        await WithDatabaseAsync("wr_burst_start", async database =>
        {
            await using var app = await StartAsync(database, new Dictionary<string, string?>
            {
                ["Jobs:YieldToIngestAbove"] = "10", ["Jobs:MaxYieldSeconds"] = "30", ["Jobs:ActionsPerJob"] = "1",
            });
            await Task.Delay(500); // a quiet spell: the dispatcher's last rate sample reads no load

            // Up to ~100 events/s for about half a second, well above the threshold. The first commit wakes the dispatcher; a rate read
            // from the quiet moment before it would hand the first events out at once (and keep doing so until its
            // next sample) - in a real burst, on the CPU the burst's requests need.
            var sent = new List<string>();
            for (var i = 0; i < 40; i++)
            {
                var callId = MiniVoiceEvents.NewCallId();
                using var response = await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                sent.Add(callId);
                await Task.Delay(10);
            }
            foreach (var callId in sent)
            {
                await Actions.SettledAsync(database, callId);
            }
            var handedOutDuringBurst = await Db.CountAsync(database,
                "SELECT count(*) FROM call_actions WHERE dispatched_at <= (SELECT max(created_at) FROM call_actions)");
            // One may slip through: a dispatch round already under way when the first event committed.
            Assert.InRange(handedOutDuringBurst, 0, 1);
            Assert.Equal(sent.Count, app.Crm.Requests.Count);
        });
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

    private static async Task<CustomReceiverFactory> StartAsync(string database, Dictionary<string, string?> settings)
    {
        var factory = new CustomReceiverFactory(database, settings);
        await factory.InitializeAsync();
        return factory;
    }

    private static async Task WithDatabaseAsync(string name, Func<string, Task> test)
    {
        var database = await PostgresServer.CreateDatabaseAsync(name);
        try
        {
            await test(database);
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(database);
        }
    }
}
