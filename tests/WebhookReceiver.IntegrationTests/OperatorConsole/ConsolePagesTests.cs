using System.Net;
using WebhookReceiver.IntegrationTests.Calls;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.OperatorConsole;

[Collection(ReceiverCollection.Name)]
public sealed class ConsolePagesTests(ReceiverFactory app)
{
    private static readonly DateTimeOffset T0 = new(2026, 8, 3, 14, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Values_from_payloads_render_as_text_never_as_markup()
    {
        var callId = MiniVoiceEvents.NewCallId();
        const string script = "<script>alert(1)</script>";
        using (var response = await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0,
                   variables: new { note = script, quote = "\"><img src=x onerror=alert(2)>" },
                   data: new { recording = new { url = "javascript:alert(3)", label = "<b>bold</b>" } })))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var html = await GetHtmlAsync($"/console/calls/{callId}");

        Assert.DoesNotContain(script, html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>bold</b>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"javascript:", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase); // the console ships no scripts at all

        // The events search shows the same body, encoded too.
        var events = await GetHtmlAsync($"/console/events?call_id={callId}");
        Assert.Contains("&lt;script&gt;", events, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", events, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_call_page_says_plainly_what_is_absent_and_shows_what_is_present()
    {
        var bare = MiniVoiceEvents.NewCallId();
        using (await app.PostSignedAsync(MiniVoiceEvents.Event(bare, "call.ringing", "ringing", T0))) { }
        var html = await GetHtmlAsync($"/console/calls/{bare}");
        foreach (var text in new[] { "No recordings.", "No transcripts.", "No AI results.", "No billing information.", "No variables.", "Not final yet" })
        {
            Assert.Contains(text, html, StringComparison.Ordinal);
        }

        var rich = MiniVoiceEvents.NewCallId();
        using (await app.PostSignedAsync(MiniVoiceEvents.Event(rich, "call.completed", "completed", T0, variables: new { order = "B2" },
                   data: new
                   {
                       recording = new { url = "https://media.example/rec_1.mp3", duration_seconds = 42 },
                       transcript = new { text = "Hello there" },
                       ai_result = new { sentiment = "positive" },
                       billing = new { amount = "0.12", currency = "USD" },
                   }))) { }
        html = await GetHtmlAsync($"/console/calls/{rich}");
        Assert.Contains("href=\"https://media.example/rec_1.mp3\"", html, StringComparison.Ordinal);
        Assert.Contains("Hello there", html, StringComparison.Ordinal);
        Assert.Contains("positive", html, StringComparison.Ordinal);
        Assert.Contains("USD", html, StringComparison.Ordinal);
        Assert.Contains("B2", html, StringComparison.Ordinal);
        Assert.DoesNotContain("No recordings.", html, StringComparison.Ordinal);
        Assert.Contains("id=\"final-status\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_timeline_shows_what_each_event_said_encoded_as_text()
    {
        var callId = MiniVoiceEvents.NewCallId();
        using (await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.ringing", "ringing", T0))) { }
        using (await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.hangup", "canceled", T0.AddSeconds(9),
                   data: new { hangup_by = "caller", hangup_cause = "<i>normal</i>", duration = 9 }))) { }

        var html = await GetHtmlAsync($"/console/calls/{callId}");

        var timeline = html[html.IndexOf("id=\"timeline\"", StringComparison.Ordinal)..
                            html.IndexOf("<h2>Variables", StringComparison.Ordinal)];
        Assert.Contains("<code>hangup_by</code>: caller", timeline, StringComparison.Ordinal);
        Assert.Contains("<code>hangup_cause</code>: &lt;i&gt;normal&lt;/i&gt;", timeline, StringComparison.Ordinal);
        Assert.Contains("<code>duration</code>: 9", timeline, StringComparison.Ordinal);
        Assert.DoesNotContain("<i>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"timeline-cut\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cut_timeline_says_how_many_events_exist_and_links_to_all_of_them()
    {
        var callId = MiniVoiceEvents.NewCallId();
        await CallTimelineTests.PostManyAsync(app, callId, WebhookReceiver.Calls.CallTimeline.Limit + 1);

        var html = await GetHtmlAsync($"/console/calls/{callId}");

        Assert.Contains("Showing the newest 500 of 501 events.", html, StringComparison.Ordinal);
        var href = $"/console/events?call_id={callId}&result=accepted";
        Assert.Contains($"href=\"{href.Replace("&", "&amp;", StringComparison.Ordinal)}\"", html, StringComparison.Ordinal);
        var events = await GetHtmlAsync(href);
        Assert.Contains(callId, events, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_failures_page_lists_groups_with_links_to_calls_and_jobs()
    {
        var callId = MiniVoiceEvents.NewCallId();
        app.Crm.Script(callId, new StubReply(422));
        using (await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", DateTimeOffset.UtcNow))) { }
        await Actions.SettledAsync(app.ConnectionString, callId);
        var jobId = await Actions.JobIdAsync(app.ConnectionString, callId, "crm.sync");

        var html = await GetHtmlAsync("/console/failures");

        Assert.Contains($"href=\"/console/calls/{callId}\"", html, StringComparison.Ordinal);
        Assert.Contains($"href=\"/hangfire/jobs/details/{jobId}\"", html, StringComparison.Ordinal);
        Assert.Contains("422", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_filters_and_unknown_calls_answer_with_a_page_that_says_so()
    {
        using var client = app.CreateClient();
        using (var response = await client.GetAsync(new Uri("/console?since=yesterday", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("since", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var response = await client.GetAsync(new Uri("/console/events?json=%5B", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("not valid JSON", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var response = await client.GetAsync(new Uri("/console/calls/call_never_seen_%3Cscript%3E", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            var html = await response.Content.ReadAsStringAsync();
            Assert.Contains("call_never_seen_&lt;script&gt;", html, StringComparison.Ordinal);
        }
    }

    private async Task<string> GetHtmlAsync(string path)
    {
        using var client = app.CreateClient();
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} answered {(int)response.StatusCode}: {html}");
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        return html;
    }
}

public sealed class ConsoleAccessTests(OperatorAccessTests.WithDashboardCredentials app) : IClassFixture<OperatorAccessTests.WithDashboardCredentials>
{
    [Fact]
    public async Task The_console_and_its_apis_need_operator_credentials_when_they_are_configured()
    {
        using var client = app.CreateClient();
        foreach (var path in new[] { "/console", "/console/failures", "/console/events", "/console/calls/x", "/events", "/events/counts", "/actions/failures" })
        {
            using var anonymous = await client.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, "/console");
        request.Headers.Authorization = ReceiverFactory.BasicHeader("ops", OperatorAccessTests.WithDashboardCredentials.Password);
        using var ok = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains("<h1>Calls</h1>", await ok.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
