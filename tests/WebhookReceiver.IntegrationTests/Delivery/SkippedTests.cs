using System.Net;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Delivery;

/// <summary>
/// An integration that is not configured is off (README "Background work"): its actions are recorded skipped — visible on the
/// call, not failures, no job, no retry — and the bulk retry sends them once it is configured.
/// </summary>
public sealed class SkippedTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Without_a_ticket_system_a_busy_calls_ticket_is_skipped_and_once_configured_the_bulk_retry_sends_it_once()
    {
        await Hosts.WithDatabaseAsync("wr_skipped", async database =>
        {
            var callId = MiniVoiceEvents.NewCallId();
            await using (var unconfigured = await Hosts.StartAsync(database, new Dictionary<string, string?> { ["Tickets:BaseUrl"] = "" }))
            {
                await DestinationTests.PostEventAsync(unconfigured, MiniVoiceEvents.Event(callId, "call.busy", "busy", T0));

                await Actions.SettledAsync(database, callId);

                Assert.Equal(1, await Actions.CountAsync(database, callId, "crm.sync", "succeeded"));
                Assert.Single(unconfigured.Crm.For(callId));
                Assert.Equal(1, await Actions.CountAsync(database, callId, "ticket.create", "skipped"));
                Assert.Equal("not_configured", await Db.ScalarAsync<string>(database,
                    "SELECT last_error_kind FROM call_actions WHERE call_id = $1 AND action = 'ticket.create'", callId));
                Assert.Equal(0, await Db.CountAsync(database,
                    "SELECT count(*) FROM call_actions WHERE call_id = $1 AND action = 'ticket.create' AND (job_id IS NOT NULL OR attempts > 0)", callId));
                Assert.Equal(0, await Db.CountAsync(database, "SELECT count(*) FROM hangfire.job WHERE invocationdata->>'Arguments' LIKE '%ticket.create%'"));
                Assert.Empty(unconfigured.Tickets.Requests);

                var call = await unconfigured.GetJsonAsync($"/calls/{callId}");
                var ticket = call.GetProperty("actions").EnumerateArray().Single(a => a.GetProperty("action").GetString() == "ticket.create");
                Assert.Equal("skipped", ticket.GetProperty("state").GetString());
                Assert.Equal("not_configured", ticket.GetProperty("last_error_kind").GetString());
                var tickets = await DestinationApi.GetAsync(unconfigured, "tickets");
                Assert.False(tickets.GetProperty("configured").GetBoolean());
                Assert.Equal(0, tickets.GetProperty("pending").GetInt64());
            }

            // The same service restarted with a ticket system.
            await using var configured = await Hosts.StartAsync(database, new Dictionary<string, string?>());
            Assert.True((await DestinationApi.GetAsync(configured, "tickets")).GetProperty("configured").GetBoolean());
            using var retry = await DestinationApi.PostAsync(configured, "/actions/retry", new { action = "ticket.create", error_kind = "not_configured" });

            Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
            Assert.Equal(1, (await retry.JsonAsync()).GetProperty("matching_now").GetInt64());
            await Eventually.WaitAsync(async () => await Actions.CountAsync(database, callId, "ticket.create", "succeeded") == 1,
                TimeSpan.FromSeconds(20), "the skipped ticket to be sent", () => Actions.DescribeAsync(database));
            var sent = Assert.Single(configured.Tickets.For(callId));
            Assert.Equal($"ticket.create:{callId}", sent.IdempotencyKey);
            Assert.Equal(callId, sent.Body.GetProperty("call_id").GetString());
            Assert.Empty(configured.Crm.For(callId)); // the CRM already had it: only the skipped action was retried
            Assert.Equal(1, await Db.ScalarAsync<int>(database,
                "SELECT attempts FROM call_actions WHERE call_id = $1 AND action = 'ticket.create'", callId));
        });
    }
}
