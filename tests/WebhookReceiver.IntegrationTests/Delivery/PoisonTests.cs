using System.Net;
using WebhookReceiver.IntegrationTests.Infrastructure;
using static WebhookReceiver.IntegrationTests.Infrastructure.Hosts;

namespace WebhookReceiver.IntegrationTests.Delivery;

/// <summary>
/// Poison stays alone (issue 13 point 3): a call ID no header can carry as it is, or an action whose body cannot be
/// built, never takes the other actions of its batch down — they are sent and succeed once, none is re-sent, and the
/// batch job itself never breaks. Each batch here is committed by a Role=api host and then run by one worker, so the
/// poisoned action and its siblings share one batch.
/// </summary>
public sealed class PoisonTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_call_id_with_a_line_break_gets_a_valid_percent_encoded_key_and_its_batch_succeeds_once_each()
    {
        await WithDatabaseAsync("wr_poison_key", async database =>
        {
            var poison = MiniVoiceEvents.NewCallId() + "\nevil"; // valid JSON ("\n"); call.id is only length-checked
            var calls = new[] { MiniVoiceEvents.NewCallId(), poison, MiniVoiceEvents.NewCallId(), MiniVoiceEvents.NewCallId() };
            await IngestWithoutWorkersAsync(database, calls, "busy");
            await using var worker = await StartAsync(database, new());

            foreach (var callId in calls)
            {
                await Actions.SettledAsync(database, callId, TimeSpan.FromSeconds(20));
            }

            // The poisoned call's ticket: sent once under a key that is a valid header value, and succeeded.
            var ticket = Assert.Single(worker.Tickets.For(poison));
            Assert.Equal("ticket.create:" + Uri.EscapeDataString(poison), ticket.IdempotencyKey);
            Assert.Contains("%0Aevil", ticket.IdempotencyKey, StringComparison.Ordinal);
            Assert.All(ticket.IdempotencyKey!, c => Assert.InRange(c, '!', '~'));
            Assert.Equal(poison, ticket.Body.GetProperty("call_id").GetString());
            // Every action of every call of the batch succeeded on its first attempt, and was sent exactly once.
            Assert.Equal(8, await Db.CountAsync(database, "SELECT count(*) FROM call_actions WHERE state = 'succeeded' AND attempts = 1"));
            Assert.Equal(1, await Db.CountAsync(database, "SELECT count(DISTINCT job_id) FROM call_actions WHERE action = 'ticket.create'"));
            Assert.All(calls, callId =>
            {
                Assert.Single(worker.Tickets.For(callId));
                Assert.Single(worker.Crm.For(callId));
            });
            Assert.Equal(0, await Db.CountAsync(database, RetriedBatchJobs));
        });
    }

    [Fact]
    public async Task An_action_whose_body_cannot_be_built_fails_alone_as_internal_after_one_attempt_and_its_siblings_succeed_once()
    {
        await WithDatabaseAsync("wr_poison_body", async database =>
        {
            var calls = Enumerable.Range(0, 4).Select(_ => MiniVoiceEvents.NewCallId()).ToArray();
            var vanished = calls[1];
            await IngestWithoutWorkersAsync(database, calls, "completed");
            // The call record goes away while its action waits, unowned: its body can no longer be built.
            Assert.Equal(1, await Db.CountAsync(database, "WITH d AS (DELETE FROM calls WHERE id = $1 RETURNING 1) SELECT count(*) FROM d", vanished));
            await using var worker = await StartAsync(database, new());

            await Eventually.WaitAsync(async () => await Db.CountAsync(database, "SELECT count(*) FROM call_actions WHERE state = 'pending'") == 0,
                TimeSpan.FromSeconds(20), "the batch to settle", () => Actions.DescribeAsync(database));

            Assert.Equal(1, await Db.CountAsync(database,
                "SELECT count(*) FROM call_actions WHERE call_id = $1 AND state = 'failed' AND last_error_kind = 'internal' AND attempts = 1 " +
                "AND last_http_status IS NULL AND payload IS NULL AND last_error LIKE '%could not be built%'", vanished));
            Assert.Empty(worker.Crm.For(vanished));
            var siblings = calls.Where(c => c != vanished).ToArray();
            Assert.Equal(3, await Db.CountAsync(database,
                "SELECT count(*) FROM call_actions WHERE call_id = ANY($1) AND state = 'succeeded' AND attempts = 1", (object)siblings));
            Assert.All(siblings, callId => Assert.Single(worker.Crm.For(callId)));
            Assert.Equal(1, await Db.CountAsync(database, "SELECT count(DISTINCT job_id) FROM call_actions"));
            Assert.Equal(0, await Db.CountAsync(database, RetriedBatchJobs));
            // The batch's dashboard result names the poisoned action and why.
            string? result = null;
            await Eventually.WaitAsync(async () => (result = await Actions.JobResultAsync(database, vanished, "crm.sync")) is not null,
                TimeSpan.FromSeconds(10), "the batch job to succeed");
            Assert.Contains($"call {vanished}: failed: request body could not be built", result, StringComparison.Ordinal);
            Assert.StartsWith("3 of 4 succeeded", result, StringComparison.Ordinal);
        });
    }

    /// <summary>Batch jobs Hangfire had to retry because the job itself threw.</summary>
    private const string RetriedBatchJobs =
        "SELECT count(*) FROM hangfire.state s JOIN hangfire.job j ON j.id = s.jobid " +
        "WHERE j.invocationdata->>'Type' LIKE '%.DeliveryJob,%' AND (s.name = 'Failed' OR s.reason LIKE 'Retry attempt%')";

    private static async Task IngestWithoutWorkersAsync(string database, IEnumerable<string> calls, string status)
    {
        await using var api = await StartAsync(database, new Dictionary<string, string?> { ["Role"] = "api" });
        foreach (var callId in calls)
        {
            using var response = await api.PostSignedAsync(MiniVoiceEvents.Event(callId, "call." + status, status, T0));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
    }

    private static async Task<CustomReceiverFactory> StartAsync(string database, Dictionary<string, string?> settings)
    {
        settings["Jobs:RecoveryAfterSeconds"] = "5";
        return await Hosts.StartAsync(database, settings);
    }
}
