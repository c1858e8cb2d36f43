using System.Net;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.IntegrationTests.Infrastructure;
using WebhookReceiver.Retention;

namespace WebhookReceiver.IntegrationTests.Retention;

/// <summary>
/// Retention of failed work (issue 13 point 6): an event whose action failed is kept past Retention:Days, for
/// Retention:KeepFailedDays, and then purged too (nothing pins the table forever); an event whose work succeeded or
/// was skipped ages out at Days; pending work keeps its event whatever its age. Real rows on a database of its own,
/// aged with SQL.
/// </summary>
public sealed class KeepFailedTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);
    private const int Days = 30, KeepFailedDays = 90;

    [Fact]
    public async Task Failed_work_keeps_its_event_for_KeepFailedDays_then_it_is_purged_while_pending_work_is_always_kept()
    {
        // The ticket system is not configured (ticket.create is skipped); a CRM 5xx waits ten minutes for its retry (pending).
        await using var host = new CustomReceiverFactory(null, new Dictionary<string, string?>
        {
            ["Tickets:BaseUrl"] = "",
            ["Jobs:RetryDelaysSeconds:0"] = "600",
            ["Jobs:RecoveryAfterSeconds"] = "5",
        });
        await host.InitializeAsync();
        var cs = host.ConnectionString;
        var (failed, skipped, succeeded, pending) =
            (MiniVoiceEvents.NewCallId(), MiniVoiceEvents.NewCallId(), MiniVoiceEvents.NewCallId(), MiniVoiceEvents.NewCallId());
        host.Crm.Script(failed, new StubReply(400));
        host.Crm.Script(pending, new StubReply(500));
        await AcceptAsync(host, MiniVoiceEvents.Event(failed, "call.completed", "completed", T0));
        await AcceptAsync(host, MiniVoiceEvents.Event(skipped, "call.busy", "busy", T0));
        await AcceptAsync(host, MiniVoiceEvents.Event(succeeded, "call.completed", "completed", T0));
        await AcceptAsync(host, MiniVoiceEvents.Event(pending, "call.completed", "completed", T0));
        await Eventually.WaitAsync(async () =>
                await Actions.CountAsync(cs, failed, "crm.sync", "failed") == 1
                && await Actions.CountAsync(cs, skipped, "crm.sync", "succeeded") == 1
                && await Actions.CountAsync(cs, skipped, "ticket.create", "skipped") == 1
                && await Actions.CountAsync(cs, succeeded, "crm.sync", "succeeded") == 1
                && await Db.CountAsync(cs, "SELECT count(*) FROM call_actions WHERE call_id = $1 AND state = 'pending' AND attempts = 1 AND lease_owner IS NULL", pending) == 1,
            TimeSpan.FromSeconds(20), "failed, skipped, succeeded and pending work", () => Actions.DescribeAsync(cs));

        // Older than Days, younger than KeepFailedDays.
        await AgeAsync(cs, Days + 1, failed, skipped, succeeded, pending);
        var first = await PurgeAsync(host);

        Assert.Equal(2, first.Events);
        Assert.Equal(1, await EventsAsync(cs, failed));
        Assert.Equal(1, await Actions.CountAsync(cs, failed, "crm.sync", "failed")); // still there to inspect and retry
        Assert.Equal(0, await EventsAsync(cs, skipped));
        Assert.Equal(0, await EventsAsync(cs, succeeded));
        Assert.Equal(1, await EventsAsync(cs, pending));
        // A skipped ticket stays as the call's one ticket row, without its event; finished syncs go with their events.
        Assert.Equal(1, await Db.CountAsync(cs,
            "SELECT count(*) FROM call_actions WHERE call_id = $1 AND action = 'ticket.create' AND state = 'skipped' AND event_id IS NULL", skipped));
        Assert.Equal(0, await Actions.CountAsync(cs, skipped, "crm.sync", "succeeded"));
        Assert.Equal(0, await Actions.CountAsync(cs, succeeded));

        // Older than KeepFailedDays: the failed work no longer pins its event; pending work still does.
        await AgeAsync(cs, KeepFailedDays + 1, failed, pending);
        var second = await PurgeAsync(host);

        Assert.Equal(1, second.Events);
        Assert.Equal(0, await EventsAsync(cs, failed));
        Assert.Equal(0, await Actions.CountAsync(cs, failed));
        Assert.Equal(1, await EventsAsync(cs, pending));
        Assert.Equal(1, await Actions.CountAsync(cs, pending, "crm.sync", "pending"));
        // Every call record stays, with its final status; no action points at a purged event.
        Assert.Equal(4, await Db.CountAsync(cs, "SELECT count(*) FROM calls WHERE id = ANY($1) AND is_final",
            (object)new[] { failed, skipped, succeeded, pending }));
        Assert.Equal(0, await Db.CountAsync(cs,
            "SELECT count(*) FROM call_actions a WHERE a.event_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.id = a.event_id)"));
    }

    [Fact]
    public async Task A_failed_ticket_keeps_its_calls_events_only_until_KeepFailedDays()
    {
        await using var host = new CustomReceiverFactory(null, new Dictionary<string, string?> { ["Jobs:RecoveryAfterSeconds"] = "5" });
        await host.InitializeAsync();
        var cs = host.ConnectionString;
        var callId = MiniVoiceEvents.NewCallId();
        host.Tickets.Script(callId, new StubReply(422));
        await AcceptAsync(host, MiniVoiceEvents.Event(callId, "call.ringing", "ringing", T0));
        await AcceptAsync(host, MiniVoiceEvents.Event(callId, "call.busy", "busy", T0.AddSeconds(20)));
        await Actions.SettledAsync(cs, callId);
        Assert.Equal(1, await Actions.CountAsync(cs, callId, "ticket.create", "failed"));

        await AgeAsync(cs, KeepFailedDays - 1, callId);
        Assert.Equal(0, (await PurgeAsync(host)).Events);
        Assert.Equal(2, await EventsAsync(cs, callId));

        await AgeAsync(cs, KeepFailedDays + 1, callId);
        Assert.Equal(2, (await PurgeAsync(host)).Events);
        Assert.Equal(0, await EventsAsync(cs, callId));
        // The failed ticket row itself stays (one ticket per call, ever), detached from its event.
        Assert.Equal(1, await Db.CountAsync(cs,
            "SELECT count(*) FROM call_actions WHERE call_id = $1 AND action = 'ticket.create' AND state = 'failed' AND event_id IS NULL", callId));
    }

    private static Task<PurgeCounts> PurgeAsync(CustomReceiverFactory host) =>
        host.Services.GetRequiredService<RetentionPurge>().PurgeAsync(Days, KeepFailedDays, batchSize: 2, CancellationToken.None);

    private static async Task AgeAsync(string cs, int days, params string[] calls) => Assert.True(await Db.CountAsync(cs,
        "WITH x AS (UPDATE webhook_events SET received_at = now() - make_interval(days => $1) WHERE call_id = ANY($2) RETURNING 1) SELECT count(*) FROM x",
        days, calls) >= calls.Length);

    private static Task<long> EventsAsync(string cs, string callId) =>
        Db.CountAsync(cs, "SELECT count(*) FROM webhook_events WHERE call_id = $1", callId);

    private static async Task AcceptAsync(CustomReceiverFactory host, string json)
    {
        using var response = await host.PostSignedAsync(json);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }
}
