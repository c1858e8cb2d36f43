using System.Net;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.IntegrationTests.Infrastructure;
using WebhookReceiver.Retention;

namespace WebhookReceiver.IntegrationTests.Retention;

/// <summary>The purge against real rows aged with SQL: exactly the old, finished history goes; calls stay consistent.</summary>
[Collection(ReceiverCollection.Name)]
public sealed class RetentionTests(ReceiverFactory app)
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Old_events_with_finished_work_are_purged_and_events_with_pending_or_failed_work_are_kept()
    {
        var done = MiniVoiceEvents.NewCallId();         // completed, crm.sync succeeded: purged
        var ticketed = MiniVoiceEvents.NewCallId();     // busy, ticket and sync succeeded: purged, ticket row kept
        var ticketFailed = MiniVoiceEvents.NewCallId(); // busy, ticket failed for good: kept
        var syncPending = MiniVoiceEvents.NewCallId();  // completed, sync pending again: that event kept
        var young = MiniVoiceEvents.NewCallId();        // completed, not old enough: kept
        app.Tickets.Script(ticketFailed, new StubReply(400));
        foreach (var call in new[] { done, syncPending, young })
        {
            await Accept(MiniVoiceEvents.Event(call, "call.ringing", "ringing", T0));
            await Accept(MiniVoiceEvents.Event(call, "call.answered", "in-progress", T0.AddSeconds(5)));
            await Accept(MiniVoiceEvents.Event(call, "call.completed", "completed", T0.AddMinutes(3)));
        }
        foreach (var call in new[] { ticketed, ticketFailed })
        {
            await Accept(MiniVoiceEvents.Event(call, "call.ringing", "ringing", T0));
            await Accept(MiniVoiceEvents.Event(call, "call.busy", "busy", T0.AddSeconds(20)));
        }
        foreach (var call in new[] { done, ticketed, ticketFailed, syncPending, young })
        {
            await Actions.SettledAsync(app.ConnectionString, call);
        }
        Assert.Equal(1, await Actions.CountAsync(app.ConnectionString, ticketFailed, "ticket.create", "failed"));
        await Sql("UPDATE call_actions SET state = 'pending' WHERE call_id = $1", syncPending);
        await Age(done, ticketed, ticketFailed, syncPending);
        await Sql("UPDATE webhook_events SET received_at = now() - interval '29 days' WHERE call_id = $1", young);

        // Batches of 2 rows: the loop, not one statement, must get through everything.
        var counts = await Purge(days: 30, batchSize: 2);

        Assert.True(counts.Events >= 5, $"purged {counts.Events} events");
        Assert.Equal(0, await Events(done));
        Assert.Equal(0, await Events(ticketed));
        Assert.Equal(2, await Events(ticketFailed));
        // Only the event whose sync is pending is protected; its call's earlier, workless events are not.
        Assert.Equal(1, await Events(syncPending));
        Assert.Equal(1, await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM webhook_events e JOIN call_actions a ON a.event_id = e.id WHERE e.call_id = $1 AND e.event = 'call.completed'", syncPending));
        Assert.Equal(3, await Events(young));
        // Finished syncs go with their events; the ticket stays (one per call, ever), detached from its event.
        Assert.Equal(0, await Actions.CountAsync(app.ConnectionString, done));
        Assert.Equal(0, await Actions.CountAsync(app.ConnectionString, ticketed, "crm.sync", "succeeded"));
        Assert.Equal(1, await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM call_actions WHERE call_id = $1 AND action = 'ticket.create' AND state = 'succeeded' AND event_id IS NULL", ticketed));
        Assert.Equal(2, await Actions.CountAsync(app.ConnectionString, ticketFailed));
        Assert.Equal(1, await Actions.CountAsync(app.ConnectionString, syncPending));
        // No action points at an event that is gone; every call record is still there with its final status.
        Assert.Equal(0, await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM call_actions a WHERE a.event_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.id = a.event_id)"));
        Assert.Equal(5, await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM calls WHERE id = ANY($1) AND is_final", (object)new[] { done, ticketed, ticketFailed, syncPending, young }));
        var record = await app.GetJsonAsync($"/calls/{ticketed}");
        Assert.Equal("busy", record.GetProperty("status").GetString());
        Assert.Empty(record.GetProperty("events").EnumerateArray());

        // A later failing event of the purged call does not open a second ticket.
        await Accept(MiniVoiceEvents.Event(ticketed, "call.failed", "failed", T0.AddMinutes(1)));
        await Actions.SettledAsync(app.ConnectionString, ticketed);
        Assert.Single(app.Tickets.For(ticketed));
    }

    [Fact]
    public async Task Old_quarantined_bodies_and_receipts_are_purged_and_recent_ones_kept()
    {
        var marker = Guid.NewGuid().ToString("N");
        var old = await Quarantine(marker + "-old");
        var recent = await Quarantine(marker + "-recent");
        const string receiptOf = "SELECT count(*) FROM webhook_receipts WHERE quarantine_id = $1";
        // Receipts are written off the response path: wait for both before ageing.
        await Eventually.WaitAsync(async () => await Db.CountAsync(app.ConnectionString, receiptOf, old) == 1
                                               && await Db.CountAsync(app.ConnectionString, receiptOf, recent) == 1,
            TimeSpan.FromSeconds(10), "both receipts to be written");
        await Sql("UPDATE quarantined_webhooks SET received_at = now() - interval '31 days' WHERE id = $1", old);
        await Sql("UPDATE webhook_receipts SET received_at = now() - interval '31 days' WHERE quarantine_id = $1", old);

        var counts = await Purge(days: 30, batchSize: 100);

        Assert.Equal(0, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM quarantined_webhooks WHERE id = $1", old));
        Assert.Equal(1, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM quarantined_webhooks WHERE id = $1", recent));
        Assert.Equal(0, await Db.CountAsync(app.ConnectionString, receiptOf, old));
        Assert.Equal(1, await Db.CountAsync(app.ConnectionString, receiptOf, recent));
        Assert.True(counts.Receipts >= 1, $"purged {counts.Receipts} receipts");
    }

    [Fact]
    public async Task Zero_days_keeps_everything()
    {
        var call = MiniVoiceEvents.NewCallId();
        await Accept(MiniVoiceEvents.Event(call, "call.ringing", "ringing", T0));
        await Age(call);

        var counts = await Purge(days: 0, batchSize: 100);

        Assert.Equal(new PurgeCounts(0, 0, 0, 0), counts);
        Assert.Equal(1, await Events(call));
    }

    [Fact]
    public async Task The_purge_is_registered_as_a_recurring_job_in_this_hosts_storage()
    {
        using var connection = app.Services.GetRequiredService<JobStorage>().GetConnection();
        RecurringJobDto? job = null;
        await Eventually.WaitAsync(() => (job = connection.GetRecurringJobs().SingleOrDefault(j => j.Id == RetentionSetup.RecurringJobId)) is not null,
            TimeSpan.FromSeconds(15), "the retention job registered");

        Assert.Equal("7 * * * *", job!.Cron);
        Assert.Equal(typeof(RetentionJob), job.Job.Type);
    }

    private async Task<PurgeCounts> Purge(int days, int batchSize, int keepFailedDays = 90) =>
        await app.Services.GetRequiredService<RetentionPurge>().PurgeAsync(days, keepFailedDays, batchSize, CancellationToken.None);

    private async Task Age(params string[] calls)
    {
        foreach (var call in calls)
        {
            await Sql("UPDATE webhook_events SET received_at = now() - interval '31 days' WHERE call_id = $1", call);
        }
    }

    private Task<long> Events(string callId) => Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM webhook_events WHERE call_id = $1", callId);

    private Task<long> Sql(string sql, params object[] args) =>
        Db.CountAsync(app.ConnectionString, $"WITH x AS ({sql} RETURNING 1) SELECT count(*) FROM x", args);

    private async Task<long> Quarantine(string text)
    {
        using var response = await app.PostSignedAsync($"{{\"event\":\"{text}\"}}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        return (await response.JsonAsync()).GetProperty("quarantine_id").GetInt64();
    }

    private async Task Accept(string json)
    {
        using var response = await app.PostSignedAsync(json);
        Assert.True(response.StatusCode is HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }
}
