using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Delivery;

/// <summary>
/// Workflows:TicketStatuses adds final statuses that open a ticket besides failed, busy and no-answer (README
/// "Background work"); the ingest statement reads the process's list, written as the operator spelled it.
/// </summary>
public sealed class TicketStatusesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_configured_status_opens_a_ticket_and_an_unconfigured_final_one_does_not()
    {
        await Hosts.WithDatabaseAsync("wr_ticket_statuses", async database =>
        {
            await using var app = await Hosts.StartAsync(database, new Dictionary<string, string?>
            {
                ["Workflows:TicketStatuses:0"] = "CANCELED",
            });
            var canceled = MiniVoiceEvents.NewCallId();
            var completed = MiniVoiceEvents.NewCallId();
            var noAnswer = MiniVoiceEvents.NewCallId();
            await DestinationTests.PostEventAsync(app, MiniVoiceEvents.Event(canceled, "call.canceled", "canceled", T0));
            await DestinationTests.PostEventAsync(app, MiniVoiceEvents.Event(completed, "call.completed", "completed", T0));
            await DestinationTests.PostEventAsync(app, MiniVoiceEvents.Event(noAnswer, "call.no_answer", "no_answer", T0));

            foreach (var callId in new[] { canceled, completed, noAnswer })
            {
                await Actions.SettledAsync(database, callId);
            }

            Assert.Equal(1, await Actions.CountAsync(database, canceled, "ticket.create", "succeeded"));
            Assert.Single(app.Tickets.For(canceled));
            Assert.Equal(1, await Actions.CountAsync(database, noAnswer, "ticket.create", "succeeded"));
            Assert.Equal(0, await Db.CountAsync(database,
                "SELECT count(*) FROM call_actions WHERE call_id = $1 AND action = 'ticket.create'", completed));
            Assert.Empty(app.Tickets.For(completed));
        });
    }
}
