using System.Net;
using System.Net.Http.Json;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using WebhookReceiver.Delivery;
using WebhookReceiver.IntegrationTests.Infrastructure;
using static WebhookReceiver.IntegrationTests.Infrastructure.Hosts;

namespace WebhookReceiver.IntegrationTests.Delivery;

/// <summary>
/// Nothing is ever stranded (README "Background work", issue 13 point 2), against real in-process hosts: every path that used to
/// leave a pending action without an owner — a batch that throws, retry or cancel of one action out of a batch, a job
/// deleted or requeued in the dashboard — ends with each action succeeded exactly once, within about
/// Jobs:RecoveryAfterSeconds (5 s here). Process deaths (SIGKILL, SIGSTOP) are in <see cref="ProcessDeathTests"/>.
/// </summary>
public sealed class NothingStrandedTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);
    private const int RecoveryAfterSeconds = 5;
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(RecoveryAfterSeconds);

    [Fact]
    public async Task A_batch_that_throws_while_settling_still_ends_with_each_action_succeeded_once()
    {
        await WithDatabaseAsync("wr_strand_throw", async database =>
        {
            var calls = await IngestWithoutWorkersAsync(database, 4, "completed");
            // No rate limit: the batch sends all four in one wave, then settles (no lease renewal in between).
            var worker = new CustomReceiverFactory(database, Settings(("Crm:TimeoutSeconds", "10"), ("Crm:RatePerSecond", "0")));
            foreach (var callId in calls)
            {
                worker.Crm.Script(callId, new StubReply(Delay: TimeSpan.FromSeconds(2)));
            }
            await worker.InitializeAsync();
            await using var _ = worker;

            // The batch is sending: its rows are leased to it, its job recorded, their bodies fixed.
            await Eventually.WaitAsync(async () => await Db.CountAsync(database,
                    "SELECT count(*) FROM call_actions WHERE state = 'pending' AND lease_until > now() AND job_id IS NOT NULL AND payload IS NOT NULL") == 4,
                TimeSpan.FromSeconds(15), "one batch to be sending the four actions", () => Actions.DescribeAsync(database));

            // Hold the rows so the batch's settle waits on them, then cut every connection of the app to its database,
            // the settle's among them: the batch's database work fails after its requests were applied.
            await using (var blocker = new NpgsqlConnection(database))
            {
                await blocker.OpenAsync();
                await using var hold = await blocker.BeginTransactionAsync();
                await Exec(blocker, "SELECT id FROM call_actions FOR UPDATE");
                await Eventually.WaitAsync(async () => await Scalar<long>(blocker,
                        "SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))") == 1,
                    TimeSpan.FromSeconds(15), "the batch's settle to wait for the rows", async () => await Scalar<string>(blocker,
                        "SELECT string_agg(concat_ws(' ', pid, pg_blocking_pids(pid), state, wait_event_type, wait_event, left(query, 60)), E'\\n') " +
                        "FROM pg_stat_activity WHERE datname = current_database()"));
                Assert.Equal(4, worker.Crm.Requests.Count); // all four applied at the CRM: what waits is the batch's settle
                var cut = await Scalar<long>(blocker,
                    "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()) t");
                Assert.True(cut >= 1, "no connection of the app was terminated");
                await hold.RollbackAsync();
            }
            // The test's own pooled connections (Db helpers) were cut as well (a terminated backend can still be handed
            // out by the pool, seen in CI as 57P01): from here on the test reads through unpooled connections.
            await using (var pooled = new NpgsqlConnection(database))
            {
                NpgsqlConnection.ClearPool(pooled);
            }
            var fresh = new NpgsqlConnectionStringBuilder(database) { Pooling = false }.ConnectionString;

            // Hangfire re-runs the job under its live lease, or the lease runs out and the rows are claimed again.
            await Eventually.WaitAsync(async () => await Db.CountAsync(fresh, "SELECT count(*) FROM call_actions WHERE state = 'succeeded'") == 4,
                Recovery + TimeSpan.FromSeconds(12), "all four actions to succeed after the batch broke", () => Actions.DescribeAsync(fresh));

            // The job itself broke (Hangfire scheduled a retry of it) - the path this test is about was taken.
            await Eventually.WaitAsync(async () => await Db.CountAsync(fresh, RetriedBatchJobs) >= 1,
                TimeSpan.FromSeconds(10), "Hangfire to record the batch job's failure as a retry");
            Assert.Equal(4, await Db.CountAsync(fresh, "SELECT count(*) FROM call_actions"));
            AssertOneSuccessPerKeyWithOneBody(worker.Crm, calls);
        });
    }

    [Fact]
    public async Task Retry_and_cancel_of_one_action_out_of_a_failing_batch_touch_it_alone_and_the_rest_stay_owned_by_their_due_time()
    {
        await WithDatabaseAsync("wr_strand_one", async database =>
        {
            var calls = await IngestWithoutWorkersAsync(database, 4, "completed");
            var worker = new CustomReceiverFactory(database, Settings(("Jobs:RetryDelaysSeconds:0", "300")));
            foreach (var callId in calls)
            {
                worker.Crm.Script(callId, new StubReply(500));
            }
            await worker.InitializeAsync();
            await using var _ = worker;

            // One batch attempted all four and settled them: pending after one failed attempt, no lease, due in ~5 minutes.
            await Eventually.WaitAsync(async () => await Db.CountAsync(database, WaitingForRetry, (object)calls) == 4,
                TimeSpan.FromSeconds(20), "the batch to settle all four as waiting for a retry", () => Actions.DescribeAsync(database));
            Assert.Equal(1, await Db.CountAsync(database, "SELECT count(DISTINCT job_id) FROM call_actions"));
            var (retried, cancelled, rest) = (calls[0], calls[1], calls[2..]);

            using (var retry = await PostAsync(worker, $"/actions/{await ActionIdAsync(database, retried)}/retry"))
            {
                Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
            }
            using (var cancel = await PostAsync(worker, $"/actions/{await ActionIdAsync(database, cancelled)}/cancel"))
            {
                Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
            }

            // The retried one alone is sent now, and succeeds.
            await Eventually.WaitAsync(async () => await Actions.CountAsync(database, retried, "crm.sync", "succeeded") == 1,
                TimeSpan.FromSeconds(10), "the retried action to succeed", () => Actions.DescribeAsync(database));
            Assert.Equal(2, worker.Crm.For(retried).Count);
            // The cancelled one alone is failed (canceled), with nothing sent.
            Assert.Equal(1, await Db.CountAsync(database,
                "SELECT count(*) FROM call_actions WHERE call_id = $1 AND state = 'failed' AND last_error_kind = 'canceled' AND attempts = 1", cancelled));
            Assert.Single(worker.Crm.For(cancelled));
            // The rest are untouched: pending, owned by nobody, due at their own retry time ~5 minutes ahead.
            Assert.Equal(2, await Db.CountAsync(database, WaitingForRetry, (object)rest));
            Assert.All(rest, callId => Assert.Single(worker.Crm.For(callId)));

            // A bulk retry of failed actions sends the cancelled one (and leaves pending ones to their due time).
            using (var bulk = await PostAsync(worker, "/actions/retry", new { action = "crm.sync", error_kind = "canceled" }))
            {
                Assert.Equal(HttpStatusCode.Accepted, bulk.StatusCode);
                Assert.Equal(1, (await bulk.JsonAsync()).GetProperty("matching_now").GetInt64());
            }
            await Eventually.WaitAsync(async () => await Actions.CountAsync(database, cancelled, "crm.sync", "succeeded") == 1,
                TimeSpan.FromSeconds(15), "the bulk-retried action to succeed", () => Actions.DescribeAsync(database));
            Assert.Equal(2, await Db.CountAsync(database, WaitingForRetry, (object)rest));

            // A direct retry sends each of the rest.
            foreach (var callId in rest)
            {
                using var retry = await PostAsync(worker, $"/actions/{await ActionIdAsync(database, callId)}/retry");
                Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
            }
            await Eventually.WaitAsync(async () => await Db.CountAsync(database, "SELECT count(*) FROM call_actions WHERE state = 'succeeded'") == 4,
                TimeSpan.FromSeconds(10), "every action to succeed", () => Actions.DescribeAsync(database));
            AssertOneSuccessPerKeyWithOneBody(worker.Crm, calls);
            Assert.All(calls, callId => Assert.Equal(2, worker.Crm.For(callId).Count));
        });
    }

    [Fact]
    public async Task Retry_or_cancel_of_an_action_its_batch_is_sending_right_now_answers_409_and_changes_nothing()
    {
        await using var host = await StartAsync(null, Settings(("Crm:TimeoutSeconds", "10")));
        var database = host.ConnectionString;
        var callId = MiniVoiceEvents.NewCallId();
        host.Crm.Script(callId, new StubReply(Delay: TimeSpan.FromSeconds(3)));
        using (var response = await host.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0)))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        await Eventually.WaitAsync(async () => await Db.CountAsync(database,
                "SELECT count(*) FROM call_actions WHERE call_id = $1 AND lease_until > now() AND job_id IS NOT NULL AND payload IS NOT NULL", callId) == 1,
            TimeSpan.FromSeconds(10), "the batch to be sending the action");
        var actionId = await ActionIdAsync(database, callId);
        var before = await RowAsync(database, actionId);

        using var retry = await PostAsync(host, $"/actions/{actionId}/retry");
        using var cancel = await PostAsync(host, $"/actions/{actionId}/cancel");

        Assert.Equal(HttpStatusCode.Conflict, retry.StatusCode);
        Assert.Contains("being sent right now", (await retry.JsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
        Assert.Equal(before, await RowAsync(database, actionId));
        Assert.Empty(host.Crm.For(callId)); // still in flight: the operator's requests came while it was being sent

        await Actions.SettledAsync(database, callId, TimeSpan.FromSeconds(10));
        Assert.Equal(1, await Actions.CountAsync(database, callId, "crm.sync", "succeeded"));
        Assert.Single(host.Crm.For(callId));
        Assert.Null(await Db.ScalarAsync<string>(database, "SELECT requested_by FROM call_actions WHERE id = $1", actionId));
    }

    [Fact]
    public async Task A_batch_whose_job_was_deleted_in_the_dashboard_is_sent_once_after_its_lease_runs_out()
    {
        await WithDatabaseAsync("wr_strand_deleted", async database =>
        {
            string[] calls;
            string jobId;
            await using (var api = await StartAsync(database, Settings(("Role", "api"))))
            {
                calls = await PostFinalsAsync(api, 3, "completed");
                // A batch claimed as the dispatcher does, whose job sits in a queue no worker reads.
                var lease = Guid.NewGuid();
                var claimed = await api.Services.GetRequiredService<ActionLedger>()
                    .ClaimAsync(ActionNames.CrmSync, 64, lease, Recovery, TimeSpan.Zero, CancellationToken.None);
                Assert.Equal(3, claimed.Count);
                var ids = claimed.Select(c => c.Id).ToArray();
                jobId = api.Services.GetRequiredService<IBackgroundJobClient>().Create(
                    Job.FromExpression<DeliveryJob>(j => j.RunAsync(DestinationCatalog.Crm, lease, ids, "3 crm.sync (test)", null, CancellationToken.None)),
                    new EnqueuedState("nowhere"));

                using var client = api.CreateClient();
                using var delete = await client.PostAsync(new Uri($"/hangfire/jobs/actions/delete/{jobId}", UriKind.Relative), null);
                Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
            }
            Assert.Equal("Deleted", await Db.ScalarAsync<string>(database, "SELECT statename FROM hangfire.job WHERE id = $1::bigint", jobId));
            var leaseEnds = await Db.ScalarAsync<DateTime>(database, "SELECT max(lease_until) FROM call_actions");

            await using var worker = await StartAsync(database, Settings());

            await Eventually.WaitAsync(async () => await Db.CountAsync(database, "SELECT count(*) FROM call_actions WHERE state = 'succeeded'") == 3,
                Recovery + TimeSpan.FromSeconds(12), "the deleted batch's actions to succeed", () => Actions.DescribeAsync(database));
            AssertOneSuccessPerKeyWithOneBody(worker.Crm, calls);
            Assert.All(calls, callId => Assert.Single(worker.Crm.For(callId)));
            // Taken over only once the deleted batch's lease ran out, by a job of the worker's own.
            Assert.Equal(0, await Db.CountAsync(database, "SELECT count(*) FROM call_actions WHERE first_attempt_at < $1", leaseEnds));
            Assert.Equal(0, await Db.CountAsync(database, "SELECT count(*) FROM call_actions WHERE job_id = $1", jobId));
        });
    }

    [Fact]
    public async Task A_finished_batch_requeued_in_the_dashboard_runs_again_sends_nothing_and_says_so()
    {
        await using var host = await StartAsync(null, Settings());
        var database = host.ConnectionString;
        var callId = MiniVoiceEvents.NewCallId();
        using (var response = await host.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.busy", "busy", T0)))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        await Actions.SettledAsync(database, callId, TimeSpan.FromSeconds(15));
        var jobId = (await Actions.JobIdAsync(database, callId, "crm.sync"))!;
        const string succeededRuns = "SELECT count(*) FROM hangfire.state WHERE jobid = $1::bigint AND name = 'Succeeded'";
        await Eventually.WaitAsync(async () => await Db.CountAsync(database, succeededRuns, jobId) == 1, TimeSpan.FromSeconds(10), "the batch job to succeed");

        using var client = host.CreateClient();
        using var requeue = await client.PostAsync(new Uri($"/hangfire/jobs/actions/requeue/{jobId}", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.NoContent, requeue.StatusCode);
        await Eventually.WaitAsync(async () => await Db.CountAsync(database, succeededRuns, jobId) == 2, TimeSpan.FromSeconds(15), "the requeued job to run again");
        Assert.StartsWith("Nothing to do", await Actions.JobResultAsync(database, callId, "crm.sync"), StringComparison.Ordinal);
        Assert.Single(host.Crm.For(callId));
        Assert.Single(host.Tickets.For(callId));
        Assert.Equal(1, await Actions.CountAsync(database, callId, "crm.sync", "succeeded"));
        Assert.Equal(1, await Actions.CountAsync(database, callId, "ticket.create", "succeeded"));
        Assert.Equal(2, await Db.CountAsync(database, "SELECT count(*) FROM call_actions WHERE call_id = $1 AND attempts = 1", callId));
    }

    /// <summary>Pending after exactly one failed attempt, owned by nobody, next attempt far ahead (Jobs:RetryDelaysSeconds:0 = 300, ±20 %).</summary>
    private const string WaitingForRetry =
        "SELECT count(*) FROM call_actions WHERE call_id = ANY($1) AND state = 'pending' AND attempts = 1 AND lease_owner IS NULL AND lease_until IS NULL " +
        "AND next_attempt_at > now() + interval '200 seconds'";

    private const string RetriedBatchJobs =
        "SELECT count(*) FROM hangfire.state s JOIN hangfire.job j ON j.id = s.jobid " +
        "WHERE j.invocationdata->>'Type' LIKE '%.DeliveryJob,%' AND s.name = 'Scheduled' AND s.reason LIKE 'Retry attempt%'";

    /// <summary>The ledger and the CRM agree: one succeeded row per call, one key per action, a 200 under it, one body per key.</summary>
    internal static void AssertOneSuccessPerKeyWithOneBody(IntegrationStub stub, IReadOnlyCollection<string> calls)
    {
        var requests = stub.Requests.Where(r => calls.Contains(r.CallId!)).ToList();
        var byKey = requests.GroupBy(r => r.IdempotencyKey).ToList();
        Assert.Equal(calls.Count, byKey.Count);
        Assert.All(byKey, key =>
        {
            Assert.Contains(key, r => r.AnsweredStatus == 200);
            Assert.Single(key.Select(r => r.Body.GetRawText()).Distinct());
        });
    }

    private static Task<string?> RowAsync(string database, long actionId) => Db.ScalarAsync<string>(database,
        "SELECT concat_ws('|', state, attempts, retry_from, next_attempt_at, lease_owner, job_id, last_error_kind, requested_by, completed_at) " +
        "FROM call_actions WHERE id = $1", actionId);

    private static Task<long> ActionIdAsync(string database, string callId) =>
        Db.ScalarAsync<long>(database, "SELECT id FROM call_actions WHERE call_id = $1 AND action = 'crm.sync'", callId);

    private static async Task<HttpResponseMessage> PostAsync(ReceiverFactory host, string path, object? body = null)
    {
        using var client = host.CreateClient();
        return body is null
            ? await client.PostAsync(new Uri(path, UriKind.Relative), null)
            : await client.PostAsJsonAsync(new Uri(path, UriKind.Relative), body);
    }

    private static async Task Exec(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> Scalar<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Commits one final event per new call with no worker running (a Role=api host): their actions wait, unowned.</summary>
    private static async Task<string[]> IngestWithoutWorkersAsync(string database, int count, string status)
    {
        await using var api = await StartAsync(database, Settings(("Role", "api")));
        return await PostFinalsAsync(api, count, status);
    }

    private static async Task<string[]> PostFinalsAsync(ReceiverFactory host, int count, string status)
    {
        var calls = Enumerable.Range(0, count).Select(_ => MiniVoiceEvents.NewCallId()).ToArray();
        foreach (var callId in calls)
        {
            using var response = await host.PostSignedAsync(MiniVoiceEvents.Event(callId, "call." + status, status, T0));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        return calls;
    }

    private static Dictionary<string, string?> Settings(params (string Key, string? Value)[] settings)
    {
        var all = new Dictionary<string, string?> { ["Jobs:RecoveryAfterSeconds"] = RecoveryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }
        return all;
    }
}
