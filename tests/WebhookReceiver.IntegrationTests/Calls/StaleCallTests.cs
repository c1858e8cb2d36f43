using System.Net;
using System.Text.Json;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WebhookReceiver.IntegrationTests.Infrastructure;
using WebhookReceiver.StaleCalls;

namespace WebhookReceiver.IntegrationTests.Calls;

/// <summary>
/// Stale calls (README "Stale calls"): a call with no final status Workflows:StaleCallAfterMinutes after its last
/// event (by arrival) is marked by the recurring sweep, run here through this host's real Hangfire; the stored arrival
/// time is set back with SQL instead of waiting hours. Each test has a host and database of its own (the sweep is global).
/// </summary>
public sealed class StaleCallTests
{
    // MiniVoice's created_at, months before our clock: only the arrival side decides staleness.
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_ringing_call_silent_past_the_threshold_is_marked_listed_shown_counted_and_alerted_and_nothing_else_is()
    {
        await using var alerts = new IntegrationStub();
        await alerts.StartAsync();
        await using var app = await Hosts.StartAsync(null, new Dictionary<string, string?>
        {
            ["Alerts:WebhookUrl"] = alerts.BaseUrl + "/alerts",
        });
        var silent = new[] { MiniVoiceEvents.NewCallId(), MiniVoiceEvents.NewCallId(), MiniVoiceEvents.NewCallId() };
        var fresh = MiniVoiceEvents.NewCallId();     // ringing, but its event just arrived (created_at months ago)
        var finished = MiniVoiceEvents.NewCallId();  // silent as long, but final
        foreach (var call in silent.Append(fresh))
        {
            await PostAsync(app, MiniVoiceEvents.Event(call, "call.ringing", "ringing", T0));
        }
        await PostAsync(app, MiniVoiceEvents.Event(finished, "call.completed", "completed", T0));
        await Actions.SettledAsync(app.ConnectionString, finished);
        await SilenceAsync(app, TimeSpan.FromHours(5), [.. silent, finished]);

        await SweepAsync(app, () => Marked(app, silent[0]));

        foreach (var call in silent)
        {
            var record = await app.GetJsonAsync("/calls/" + call);
            Assert.True(record.GetProperty("stale").GetBoolean(), call);
            var since = record.GetProperty("stale_since").GetDateTime();
            Assert.InRange(since, DateTime.UtcNow.AddMinutes(-2), DateTime.UtcNow.AddMinutes(1));
            Assert.Equal("ringing", record.GetProperty("status").GetString());
            Assert.False(record.GetProperty("is_final").GetBoolean());
            Assert.DoesNotContain(record.GetProperty("actions").EnumerateArray(),
                a => a.GetProperty("action").GetString() == "ticket.create");
        }
        foreach (var call in new[] { fresh, finished })
        {
            var record = await app.GetJsonAsync("/calls/" + call);
            Assert.False(record.GetProperty("stale").GetBoolean(), call);
            Assert.Equal(JsonValueKind.Null, record.GetProperty("stale_since").ValueKind);
        }
        Assert.Equal(0, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM call_actions WHERE action = 'ticket.create'"));

        // The filter, with keyset pagination over the stale calls only.
        var first = await app.GetJsonAsync("/calls?stale=true&limit=2");
        var second = await app.GetJsonAsync("/calls?stale=true&limit=2&cursor=" + first.GetProperty("next_cursor").GetString());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next_cursor").ValueKind);
        var listed = Ids(first).Concat(Ids(second)).ToList();
        Assert.Equal(silent.Order().ToList(), listed.Order().ToList());
        Assert.All(first.GetProperty("items").EnumerateArray(), i => Assert.True(i.GetProperty("stale").GetBoolean()));
        var others = Ids(await app.GetJsonAsync("/calls?stale=false&limit=500")).ToList();
        Assert.Equal(new[] { fresh, finished }.Order().ToList(), others.Order().ToList());
        using (var client = app.CreateClient())
        using (var bad = await client.GetAsync(new Uri("/calls?stale=maybe", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("stale", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // One alert for the sweep (not one per call), naming the count and an example.
        await Eventually.WaitAsync(() => alerts.Requests.Count >= 1, TimeSpan.FromSeconds(10), "the stale-calls alert");
        var text = Assert.Single(alerts.Requests).Body.GetProperty("text").GetString()!;
        Assert.StartsWith("WebhookReceiver: 3 call(s) marked stale: no final status 240 minutes after their last event", text,
            StringComparison.Ordinal);
        Assert.Contains(silent.Order(StringComparer.Ordinal).First(), text, StringComparison.Ordinal);

        using (var client = app.CreateClient())
        {
            var metrics = PrometheusText.Parse(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
            Assert.Equal(3, metrics.Sum("webhookreceiver_calls_marked_stale_total"));
            // The gauge is a count read in the background at most every 5 s: wait for a read after the marking.
            await Eventually.WaitAsync(async () => PrometheusText.Parse(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)))
                .Sum("webhookreceiver_calls_stale") == 3, TimeSpan.FromSeconds(20), "the stale gauge at 3");
            var page = await client.GetStringAsync(new Uri("/console/calls/" + silent[0], UriKind.Relative));
            Assert.Contains("Never arrived: marked stale at", page, StringComparison.Ordinal);
            var list = await client.GetStringAsync(new Uri("/console?stale=true", UriKind.Relative));
            Assert.All(silent, c => Assert.Contains(c, list, StringComparison.Ordinal));
            Assert.DoesNotContain(fresh, list, StringComparison.Ordinal);
        }

        // A second sweep finds nothing new: marked calls are not marked (nor alerted) again.
        await SilenceAsync(app, TimeSpan.FromHours(5), silent);
        var again = await app.Services.GetRequiredService<StaleCallSweep>().SweepAsync(Options(), CancellationToken.None);
        Assert.Equal(0, again.Marked);
    }

    [Fact]
    public async Task A_later_final_event_clears_the_mark_and_runs_the_normal_work()
    {
        await using var app = await Hosts.StartAsync(null, new Dictionary<string, string?>());
        var call = MiniVoiceEvents.NewCallId();
        await PostAsync(app, MiniVoiceEvents.Event(call, "call.ringing", "ringing", T0));
        await SilenceAsync(app, TimeSpan.FromHours(5), call);
        await SweepAsync(app, () => Marked(app, call));

        await PostAsync(app, MiniVoiceEvents.Event(call, "call.completed", "completed", T0.AddMinutes(3)));
        await Actions.SettledAsync(app.ConnectionString, call);

        var record = await app.GetJsonAsync("/calls/" + call);
        Assert.False(record.GetProperty("stale").GetBoolean());
        Assert.Equal(JsonValueKind.Null, record.GetProperty("stale_since").ValueKind);
        Assert.Equal("completed", record.GetProperty("status").GetString());
        Assert.Equal(1, await Actions.CountAsync(app.ConnectionString, call, "crm.sync", "succeeded"));
        var sync = Assert.Single(app.Crm.For(call));
        Assert.Equal("completed", sync.Body.GetProperty("call").GetProperty("status").GetString());
        Assert.False(sync.Body.GetProperty("call").GetProperty("stale").GetBoolean());
        Assert.Empty(Ids(await app.GetJsonAsync("/calls?stale=true")));
        using var client = app.CreateClient();
        await Eventually.WaitAsync(async () => PrometheusText.Parse(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)))
            is var m && m.Has("webhookreceiver_calls_stale") && m.Sum("webhookreceiver_calls_stale") == 0,
            TimeSpan.FromSeconds(20), "the stale gauge back at 0");
    }

    [Fact]
    public async Task With_TicketOnStaleCall_a_stale_call_gets_one_ticket_saying_so_and_a_later_failure_does_not_open_another()
    {
        await using var app = await Hosts.StartAsync(null, new Dictionary<string, string?>
        {
            ["Workflows:TicketOnStaleCall"] = "true",
            // A fraction of a minute, as an operator could set it: 3 s of silence is enough here (no SQL).
            ["Workflows:StaleCallAfterMinutes"] = "0.05",
        });
        var call = MiniVoiceEvents.NewCallId();
        await PostAsync(app, MiniVoiceEvents.Event(call, "call.ringing", "ringing", T0));
        var configured = app.Services.GetRequiredService<IOptionsMonitor<StaleCallOptions>>().CurrentValue;
        Assert.Equal(0, (await app.Services.GetRequiredService<StaleCallSweep>().SweepAsync(configured, CancellationToken.None)).Marked);

        await SweepUntilMarkedAsync(app, configured, call);
        await Actions.SettledAsync(app.ConnectionString, call);
        Assert.Equal(1, await Actions.CountAsync(app.ConnectionString, call, "ticket.create", "succeeded"));
        var ticket = Assert.Single(app.Tickets.For(call)).Body;
        Assert.Equal($"Call {call}: final status never arrived", ticket.GetProperty("subject").GetString());
        Assert.Contains("still 'ringing'", ticket.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal("ringing", ticket.GetProperty("status").GetString());
        Assert.Equal(0, await Actions.CountAsync(app.ConnectionString, call, "crm.sync", "succeeded"));

        // The final status arrives after all: busy would open a ticket, but the call has its one ticket already.
        await PostAsync(app, MiniVoiceEvents.Event(call, "call.busy", "busy", T0.AddSeconds(30)));
        await Actions.SettledAsync(app.ConnectionString, call);
        Assert.Equal(1, await Actions.CountAsync(app.ConnectionString, call, "crm.sync", "succeeded"));
        Assert.Equal(1, await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM call_actions WHERE call_id = $1 AND action = 'ticket.create'", call));
        Assert.Single(app.Tickets.For(call));
        var record = await app.GetJsonAsync("/calls/" + call);
        Assert.Equal("busy", record.GetProperty("status").GetString());
        Assert.False(record.GetProperty("stale").GetBoolean());
    }

    [Fact]
    public async Task Without_TicketOnStaleCall_a_stale_call_gets_no_ticket_and_a_later_failure_gets_the_usual_one()
    {
        await using var app = await Hosts.StartAsync(null, new Dictionary<string, string?>());
        var call = MiniVoiceEvents.NewCallId();
        await PostAsync(app, MiniVoiceEvents.Event(call, "call.ringing", "ringing", T0));
        await SilenceAsync(app, TimeSpan.FromHours(5), call);
        await SweepAsync(app, () => Marked(app, call));
        Assert.Equal(0, await Actions.CountAsync(app.ConnectionString, call));

        await PostAsync(app, MiniVoiceEvents.Event(call, "call.no_answer", "no_answer", T0.AddSeconds(30)));
        await Actions.SettledAsync(app.ConnectionString, call);
        var ticket = Assert.Single(app.Tickets.For(call)).Body;
        Assert.Equal($"Call {call} ended: no-answer", ticket.GetProperty("subject").GetString());
    }

    [Fact]
    public async Task Two_processes_sweeping_at_once_in_small_batches_mark_each_call_once_with_one_ticket()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Workflows:TicketOnStaleCall"] = "true",
            ["Workflows:StaleCallBatchSize"] = "10",
        };
        await using var first = await Hosts.StartAsync(null, settings);
        await using var second = await Hosts.StartAsync(first.ConnectionString, settings);
        var calls = Enumerable.Range(0, 60).Select(_ => MiniVoiceEvents.NewCallId()).ToArray();
        foreach (var call in calls)
        {
            await PostAsync(call.GetHashCode() % 2 == 0 ? first : second, MiniVoiceEvents.Event(call, "call.ringing", "ringing", T0));
        }
        await SilenceAsync(first, TimeSpan.FromHours(5), calls);

        var sweeps = new[] { first, second }.Select(h => Task.Run(() => h.Services.GetRequiredService<StaleCallSweep>()
            .SweepAsync(h.Services.GetRequiredService<IOptionsMonitor<StaleCallOptions>>().CurrentValue, CancellationToken.None)));
        await Task.WhenAll(sweeps);

        Assert.Equal(60, await Db.CountAsync(first.ConnectionString, "SELECT count(*) FROM calls WHERE stale_at IS NOT NULL"));
        Assert.Equal(60, await Db.CountAsync(first.ConnectionString,
            "SELECT count(DISTINCT call_id) FROM call_actions WHERE action = 'ticket.create'"));
        Assert.Equal(60, await Db.CountAsync(first.ConnectionString, "SELECT count(*) FROM call_actions WHERE action = 'ticket.create'"));
        foreach (var call in calls)
        {
            await Actions.SettledAsync(first.ConnectionString, call);
        }
        Assert.Equal(60, first.Tickets.Requests.Count + second.Tickets.Requests.Count);
        // Every marking counted once, by whichever process made it (a scheduled run meanwhile included).
        var counted = 0.0;
        foreach (var host in new[] { first, second })
        {
            using var client = host.CreateClient();
            counted += PrometheusText.Parse(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)))
                .Sum("webhookreceiver_calls_marked_stale_total");
        }
        Assert.Equal(60, counted);
    }

    [Fact]
    public async Task The_sweep_is_a_recurring_job_in_this_hosts_storage_and_zero_minutes_removes_it()
    {
        await using var app = await Hosts.StartAsync(null, new Dictionary<string, string?>());
        var job = await RecurringJobAsync(app);
        Assert.Equal("*/5 * * * *", job.Cron);
        Assert.Equal(typeof(StaleCallJob), job.Job.Type);

        await using var off = await Hosts.StartAsync(app.ConnectionString, new Dictionary<string, string?>
        {
            ["Workflows:StaleCallAfterMinutes"] = "0",
        });
        using var connection = off.Services.GetRequiredService<JobStorage>().GetConnection();
        await Eventually.WaitAsync(() => connection.GetRecurringJobs().All(j => j.Id != StaleCallsSetup.RecurringJobId),
            TimeSpan.FromSeconds(15), "the sweep removed");
    }

    private static StaleCallOptions Options(double minutes = 240, bool ticket = false) =>
        new() { StaleCallAfterMinutes = minutes, TicketOnStaleCall = ticket };

    private static Task PostAsync(CustomReceiverFactory app, string json) =>
        WebhookReceiver.IntegrationTests.Delivery.DestinationTests.PostEventAsync(app, json);

    /// <summary>Nothing has arrived for these calls for <paramref name="silence"/>: their arrival time set back.</summary>
    private static async Task SilenceAsync(CustomReceiverFactory app, TimeSpan silence, params string[] calls)
    {
        foreach (var call in calls)
        {
            await Db.CountAsync(app.ConnectionString,
                "WITH u AS (UPDATE calls SET updated_at = now() - make_interval(secs => $2) WHERE id = $1 RETURNING 1) " +
                "SELECT count(*) FROM u",
                call, silence.TotalSeconds);
        }
    }

    private static async Task<RecurringJobDto> RecurringJobAsync(CustomReceiverFactory app)
    {
        using var connection = app.Services.GetRequiredService<JobStorage>().GetConnection();
        RecurringJobDto? job = null;
        await Eventually.WaitAsync(
            () => (job = connection.GetRecurringJobs().SingleOrDefault(j => j.Id == StaleCallsSetup.RecurringJobId)) is not null,
            TimeSpan.FromSeconds(15), "the stale-call sweep registered");
        return job!;
    }

    /// <summary>Triggers the registered recurring job (a real Hangfire run in this host) and waits for its effect.</summary>
    private static async Task SweepAsync(CustomReceiverFactory app, Func<Task<bool>> done)
    {
        await RecurringJobAsync(app);
        app.Services.GetRequiredService<IRecurringJobManager>().Trigger(StaleCallsSetup.RecurringJobId);
        await Eventually.WaitAsync(done, TimeSpan.FromSeconds(30), "the triggered sweep marked the call");
    }

    /// <summary>Sweeps with the host's configured options until the call's silence is long enough.</summary>
    private static async Task SweepUntilMarkedAsync(CustomReceiverFactory app, StaleCallOptions configured, string call)
    {
        var sweep = app.Services.GetRequiredService<StaleCallSweep>();
        await Eventually.WaitAsync(async () =>
        {
            await sweep.SweepAsync(configured, CancellationToken.None);
            return await Marked(app, call);
        }, TimeSpan.FromSeconds(20), "the call marked once 3 s passed");
    }

    private static async Task<bool> Marked(CustomReceiverFactory app, string call) =>
        await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM calls WHERE id = $1 AND stale_at IS NOT NULL", call) == 1;

    private static IEnumerable<string> Ids(JsonElement page) =>
        page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!);
}
