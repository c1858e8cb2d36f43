using System.Net;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Delivery;

/// <summary>An accepted event is never left without its work, whatever happens to the process after the commit.</summary>
public sealed class WorkSurvivesRestartsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Work_committed_by_a_process_that_stopped_before_running_it_runs_once_after_a_restart()
    {
        var database = await PostgresServer.CreateDatabaseAsync("wr_restart");
        try
        {
            var callId = MiniVoiceEvents.NewCallId();
            // First life: HTTP only, no dispatcher, no workers: the event and its work are committed, nothing runs.
            var first = new CustomReceiverFactory(database, new Dictionary<string, string?> { ["Role"] = "api" });
            await first.InitializeAsync();
            using (var response = await first.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.busy", "busy", T0)))
            {
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }
            Assert.Equal(2, await Db.CountAsync(database, "SELECT count(*) FROM call_actions WHERE call_id = $1 AND state = 'pending' AND job_id IS NULL", callId));
            await ((IAsyncLifetime)first).DisposeAsync();

            // Second life: workers on.
            var second = new CustomReceiverFactory(database, new Dictionary<string, string?> { ["Role"] = "all" });
            await second.InitializeAsync();
            try
            {
                await Actions.SettledAsync(database, callId);
                Assert.Single(second.Crm.For(callId));
                Assert.Single(second.Tickets.For(callId));
                Assert.Empty(first.Crm.For(callId));
            }
            finally
            {
                await ((IAsyncLifetime)second).DisposeAsync();
            }
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(database);
        }
    }

    [Fact]
    public async Task A_job_in_flight_at_shutdown_is_handed_back_and_finished_by_the_next_process()
    {
        var database = await PostgresServer.CreateDatabaseAsync("wr_shutdown");
        try
        {
            var callId = MiniVoiceEvents.NewCallId();
            var first = new CustomReceiverFactory(database, new Dictionary<string, string?> { ["Crm:TimeoutSeconds"] = "30" });
            await first.InitializeAsync();
            first.Crm.Script(callId, new StubReply(Delay: TimeSpan.FromSeconds(20)));
            using (var response = await first.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0)))
            {
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }
            await Eventually.WaitAsync(async () => await Db.CountAsync(database,
                "SELECT count(*) FROM call_actions WHERE call_id = $1 AND job_id IS NOT NULL AND lease_until > now()", callId) == 1,
                TimeSpan.FromSeconds(10), "the job to start");

            // Graceful stop (what SIGTERM does): the in-flight job is cancelled and its work handed back at once (no lease
            // left to run out), neither failed nor counted as an attempt.
            await ((IAsyncLifetime)first).DisposeAsync();
            Assert.Equal(1, await Db.CountAsync(database,
                "SELECT count(*) FROM call_actions WHERE call_id = $1 AND state = 'pending' AND attempts = 0 AND lease_owner IS NULL", callId));

            var second = new CustomReceiverFactory(database, new Dictionary<string, string?>());
            await second.InitializeAsync();
            try
            {
                await Actions.SettledAsync(database, callId, TimeSpan.FromSeconds(5));
                Assert.Single(second.Crm.For(callId));
                Assert.Equal(1, await Actions.CountAsync(database, callId, "crm.sync", "succeeded"));
            }
            finally
            {
                await ((IAsyncLifetime)second).DisposeAsync();
            }
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(database);
        }
    }
}
