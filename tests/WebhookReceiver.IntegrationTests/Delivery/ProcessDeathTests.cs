using System.Net;
using System.Text;
using Npgsql;
using WebhookReceiver.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookReceiver.IntegrationTests.Delivery;

/// <summary>
/// Nothing is stranded when the process running a batch dies or freezes (issue 13 point 2), with the published app as
/// real OS processes on one database: process A is killed (SIGKILL) or stopped (SIGSTOP) while a batch of its own is
/// waiting for the CRM; process B finishes A's work once A's lease runs out (Jobs:RecoveryAfterSeconds = 5), each
/// action succeeding exactly once in the ledger.
/// </summary>
public sealed class ProcessDeathTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);
    private const int Calls = 40;
    /// <summary>RecoveryAfterSeconds (5, ProcessRig) plus the time B needs to claim, send and settle.</summary>
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(5 + 15);

    [Fact]
    public async Task A_process_killed_mid_batch_has_its_actions_finished_by_the_other_each_succeeding_once()
    {
        await using var rig = await ProcessRig.CreateAsync("wr_kill_mid", workerCount: 2, actionsPerJob: 8);
        var (a, b) = await StartPairAsync(rig);
        await using var _a = a;
        await using var _b = b;
        var calls = await SendSlowCallsAsync(rig, a, b);

        var heldByA = await WaitForBatchOfAsync(rig, a);
        a.Kill();
        var killedAt = DateTime.UtcNow;

        await Eventually.WaitAsync(async () => await Db.CountAsync(rig.Database, "SELECT count(*) FROM call_actions WHERE state = 'succeeded'") == Calls,
            RecoveryBound, $"all {Calls} actions to succeed after A was killed", () => Actions.DescribeAsync(rig.Database));
        output.WriteLine($"A held {heldByA.Actions.Length} actions when killed; all done {(DateTime.UtcNow - killedAt).TotalSeconds:0.0} s later; " +
                         $"{rig.Crm.Requests.Count} CRM requests for {Calls} actions");

        Assert.Equal(Calls, await Db.CountAsync(rig.Database, "SELECT count(*) FROM call_actions"));
        Assert.Equal(heldByA.Actions.Length, await Db.CountAsync(rig.Database,
            "SELECT count(*) FROM call_actions WHERE id = ANY($1) AND state = 'succeeded' AND completed_at IS NOT NULL", (object)heldByA.Actions));
        NothingStrandedTests.AssertOneSuccessPerKeyWithOneBody(rig.Crm, calls);
        Assert.False(b.HasExited, b.RecentOutput);
    }

    [Fact]
    public async Task A_process_stopped_mid_batch_has_its_actions_finished_by_the_other_and_its_late_sends_change_nothing()
    {
        await using var rig = await ProcessRig.CreateAsync("wr_stop_mid", workerCount: 2, actionsPerJob: 8);
        var (a, b) = await StartPairAsync(rig);
        await using var _a = a;
        await using var _b = b;
        try
        {
            var calls = await SendSlowCallsAsync(rig, a, b);

            var heldByA = await WaitForBatchOfAsync(rig, a);
            await a.StopAsync();
            var stoppedAt = DateTime.UtcNow;
            await Eventually.WaitAsync(() => a.State() == 'T', TimeSpan.FromSeconds(5), "A to be stopped");

            await Eventually.WaitAsync(async () => await Db.CountAsync(rig.Database, "SELECT count(*) FROM call_actions WHERE state = 'succeeded'") == Calls,
                RecoveryBound, $"all {Calls} actions to succeed while A is stopped", () => Actions.DescribeAsync(rig.Database));
            output.WriteLine($"A held {heldByA.Actions.Length} actions when stopped; all done {(DateTime.UtcNow - stoppedAt).TotalSeconds:0.0} s later");
            var ledger = await LedgerAsync(rig.Database);
            var requestsBefore = rig.Crm.Requests.Count;

            // A runs again: its stopped batch gets its answers (or times out) and tries to record them - under a lease it lost.
            await a.ResumeAsync();
            using (var client = a.CreateClient())
            {
                await Eventually.WaitAsync(async () =>
                {
                    using var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
                    return ready.IsSuccessStatusCode;
                }, TimeSpan.FromSeconds(15), "A to answer again after SIGCONT");
            }
            // A's stopped jobs end (A finishes them, or B re-ran them once A's fetch went stale): none stays Processing.
            await Eventually.WaitAsync(async () => await Db.CountAsync(rig.Database,
                    "SELECT count(*) FROM hangfire.job WHERE id = ANY($1) AND statename = 'Processing'", (object)heldByA.Jobs) == 0,
                TimeSpan.FromSeconds(20), "A's stopped jobs to end");
            await GiveTheResumedProcessTimeToActAsync(TimeSpan.FromSeconds(3));
            output.WriteLine("A's stopped jobs: " + await Db.ScalarAsync<string>(rig.Database,
                "SELECT string_agg(j.id || ' ' || j.statename || ': ' || split_part(coalesce((s.data::jsonb ->> 'Result')::jsonb #>> '{}', ''), E'\\n', 1), '; ') " +
                "FROM hangfire.job j JOIN hangfire.state s ON s.id = j.stateid WHERE j.id = ANY($1)", (object)heldByA.Jobs));

            output.WriteLine($"{requestsBefore} CRM requests before SIGCONT, {rig.Crm.Requests.Count} after; {Calls} actions");
            Assert.Equal(ledger, await LedgerAsync(rig.Database));
            Assert.Equal(Calls, await Db.CountAsync(rig.Database, "SELECT count(*) FROM call_actions WHERE state = 'succeeded'"));
            // Duplicates at the CRM, if any, repeat one key with the very same body.
            NothingStrandedTests.AssertOneSuccessPerKeyWithOneBody(rig.Crm, calls);
            Assert.False(a.HasExited, a.RecentOutput);
            Assert.False(b.HasExited, b.RecentOutput);
        }
        finally
        {
            await a.ResumeAsync();
        }
    }

    /// <summary>Named for what it is: a bounded wait in which the resumed process may do whatever it still would.</summary>
    private static Task GiveTheResumedProcessTimeToActAsync(TimeSpan time) => Task.Delay(time);

    private static async Task<(AppProcess A, AppProcess B)> StartPairAsync(ProcessRig rig)
    {
        var environment = new Dictionary<string, string?>(rig.Environment)
        {
            // Requests in flight are bounded by the batches, not by the destination: many batches wait on the CRM at once.
            ["Crm__RatePerSecond"] = "0",
            ["Crm__MaxConcurrency"] = "64",
            ["Crm__TimeoutSeconds"] = "30",
        };
        var starting = new[] { AppProcess.StartAsync(environment), AppProcess.StartAsync(environment) };
        return (await starting[0], await starting[1]);
    }

    /// <summary>Completed calls posted to both processes; the CRM holds each call's first request for a second.</summary>
    private static async Task<string[]> SendSlowCallsAsync(ProcessRig rig, AppProcess a, AppProcess b)
    {
        var calls = Enumerable.Range(0, Calls).Select(_ => MiniVoiceEvents.NewCallId()).ToArray();
        foreach (var callId in calls)
        {
            rig.Crm.Script(callId, new StubReply(Delay: TimeSpan.FromSeconds(1)));
        }
        using var clientA = a.CreateClient();
        using var clientB = b.CreateClient();
        for (var i = 0; i < calls.Length; i++)
        {
            var body = Encoding.UTF8.GetBytes(MiniVoiceEvents.Event(calls[i], "call.completed", "completed", T0));
            using var request = StandardWebhookSigner.Request(body, rig.Secret);
            using var response = await (i % 2 == 0 ? clientA : clientB).SendAsync(request);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        return calls;
    }

    /// <summary>
    /// Waits until a batch job running in process A (its Hangfire server id carries A's pid) holds leased actions whose
    /// bodies are fixed (their requests are at the CRM); returns those actions and A's jobs holding them.
    /// </summary>
    private static async Task<(long[] Actions, long[] Jobs)> WaitForBatchOfAsync(ProcessRig rig, AppProcess app)
    {
        (long[] Actions, long[] Jobs) held = ([], []);
        await Eventually.WaitAsync(async () =>
        {
            await using var connection = new NpgsqlConnection(rig.Database);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "SELECT coalesce(array_agg(a.id ORDER BY a.id), '{}'), coalesce(array_agg(DISTINCT j.id), '{}') " +
                "FROM call_actions a JOIN hangfire.job j ON j.id = a.job_id::bigint JOIN hangfire.state s ON s.id = j.stateid " +
                "WHERE a.state = 'pending' AND a.lease_until > now() AND a.payload IS NOT NULL AND j.statename = 'Processing' " +
                "AND s.data::jsonb ->> 'ServerId' LIKE '%:' || $1::text || ':%'", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = app.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            held = (reader.GetFieldValue<long[]>(0), reader.GetFieldValue<long[]>(1));
            return held.Actions.Length > 0;
        }, TimeSpan.FromSeconds(30), $"a batch of process A (pid {app.Id}) to be waiting for the CRM", () => Actions.DescribeAsync(rig.Database));
        return held;
    }

    /// <summary>Everything a settle could change, per action.</summary>
    private static Task<string?> LedgerAsync(string database) => Db.ScalarAsync<string>(database,
        "SELECT string_agg(concat_ws('|', id, state, attempts, retry_from, last_error, last_http_status, next_attempt_at, completed_at, " +
        "last_attempt_at, first_attempt_at, job_id, md5(payload)), E'\\n' ORDER BY id) FROM call_actions");
}
