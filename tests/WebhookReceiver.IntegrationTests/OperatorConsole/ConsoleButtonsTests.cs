using System.Net;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.OperatorConsole;

/// <summary>
/// The console's buttons are plain form POSTs answered with a redirect back and a notice; a browser's
/// cross-site post is refused. (The browser test presses "Retry now"; these cover the other buttons.)
/// </summary>
[Collection(ReceiverCollection.Name)]
public sealed class ConsoleButtonsTests(ReceiverFactory app)
{
    private static readonly DateTimeOffset T0 = new(2026, 8, 4, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Replay_from_a_call_page_sends_the_workflow_again_and_comes_back_with_a_notice()
    {
        var callId = MiniVoiceEvents.NewCallId();
        using var accepted = await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
        var eventId = (await accepted.JsonAsync()).GetProperty("event_id").GetInt64();
        await Actions.SettledAsync(app.ConnectionString, callId);

        using var response = await PostFormAsync($"/console/events/{eventId}/replay", new() { ["call_id"] = callId });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"/console/calls/{callId}?notice=replayed", LandedOn(response));
        Assert.Contains("Replayed: the event", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await Actions.SettledAsync(app.ConnectionString, callId);
        Assert.Equal(2, app.Crm.For(callId).Count);
    }

    [Fact]
    public async Task Re_ingest_from_the_events_page_reports_a_still_invalid_body_and_stores_nothing()
    {
        var callId = MiniVoiceEvents.NewCallId();
        using var refused = await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0, direction: "sideways"));
        var quarantineId = (await refused.JsonAsync()).GetProperty("quarantine_id").GetInt64();

        using var response = await PostFormAsync($"/console/quarantine/{quarantineId}/reingest", []);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/console/events?result=invalid&notice=still-invalid", LandedOn(response));
        Assert.Contains("still invalid", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM calls WHERE id = $1", callId));
    }

    [Fact]
    public async Task A_failure_group_button_starts_a_bulk_retry_and_opens_its_job()
    {
        var callId = MiniVoiceEvents.NewCallId();
        app.Crm.Script(callId, new StubReply(410));
        using (await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0))) { }
        await Actions.SettledAsync(app.ConnectionString, callId);

        using var response = await PostFormAsync("/console/failures/retry",
            new() { ["action"] = "crm.sync", ["error_kind"] = "http", ["http_status"] = "410" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("/hangfire/jobs/details/", LandedOn(response), StringComparison.Ordinal);
        await Eventually.WaitAsync(async () => await Actions.CountAsync(app.ConnectionString, callId, "crm.sync", "succeeded") == 1,
            TimeSpan.FromSeconds(20), "the 410 sync to be retried and succeed");
    }

    [Fact]
    public async Task The_destinations_page_pauses_and_resumes_a_destination_and_shows_its_waiting_work()
    {
        var callId = MiniVoiceEvents.NewCallId();
        try
        {
            using var paused = await PostFormAsync("/console/destinations/tickets/pause", []);
            Assert.Equal("/console/destinations?notice=paused", LandedOn(paused));
            var page = await paused.Content.ReadAsStringAsync();
            Assert.Contains("Paused: nothing is sent", page, StringComparison.Ordinal);
            Assert.Contains("<span class=\"state-paused\">paused</span>", page, StringComparison.Ordinal);
            Assert.Contains("action=\"/console/destinations/tickets/resume\"", page, StringComparison.Ordinal);

            // A busy call while tickets are paused: its CRM sync goes out, its ticket waits as pending and shows on the page.
            using (await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.busy", "busy", T0))) { }
            await Eventually.WaitAsync(async () => await Actions.CountAsync(app.ConnectionString, callId, "crm.sync", "succeeded") == 1,
                TimeSpan.FromSeconds(10), "the crm.sync of the busy call");
            Assert.Equal(1, await Actions.CountAsync(app.ConnectionString, callId, "ticket.create", "pending"));
            Assert.Empty(app.Tickets.For(callId));
            using var client = app.CreateClient();
            var html = await client.GetStringAsync(new Uri("/console/destinations", UriKind.Relative));
            Assert.Matches("id=\"destination-tickets\"[\\s\\S]*?<td>[1-9][0-9]* <span class=\"muted\">", html);
        }
        finally
        {
            using var resumed = await PostFormAsync("/console/destinations/tickets/resume", []);
            Assert.Equal("/console/destinations?notice=resumed", LandedOn(resumed));
        }
        await Actions.SettledAsync(app.ConnectionString, callId);
        Assert.Single(app.Tickets.For(callId));
        Assert.Equal(0, await Db.ScalarAsync<int>(app.ConnectionString,
            "SELECT attempts - 1 FROM call_actions WHERE call_id = $1 AND action = 'ticket.create'", callId));
    }

    [Fact]
    public async Task A_form_post_from_another_site_is_refused_and_changes_nothing()
    {
        var callId = MiniVoiceEvents.NewCallId();
        using var accepted = await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
        var eventId = (await accepted.JsonAsync()).GetProperty("event_id").GetInt64();
        await Actions.SettledAsync(app.ConnectionString, callId);

        using var response = await PostFormAsync($"/console/events/{eventId}/replay", new() { ["call_id"] = callId }, site: "cross-site");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(1, await Actions.CountAsync(app.ConnectionString, callId));
    }

    /// <summary>Posts a form as a browser on this site would; the client follows the redirect, like the browser.</summary>
    private async Task<HttpResponseMessage> PostFormAsync(string path, Dictionary<string, string> fields, string site = "same-origin")
    {
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(fields) };
        request.Headers.Add("Sec-Fetch-Site", site);
        return await client.SendAsync(request);
    }

    private static string? LandedOn(HttpResponseMessage response) => response.RequestMessage?.RequestUri?.PathAndQuery;
}
