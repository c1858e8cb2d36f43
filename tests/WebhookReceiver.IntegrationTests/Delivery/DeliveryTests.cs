using System.Net;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Delivery;

/// <summary>
/// README "Background work" end to end: real Hangfire workers on PostgreSQL, real HTTP to stub CRM and ticket servers.
/// Retry delays are 1 s (four retries) through configuration, see ReceiverFactory.
/// </summary>
[Collection(ReceiverCollection.Name)]
public sealed class DeliveryTests(ReceiverFactory app)
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_completed_call_sends_one_crm_sync_with_its_current_record_token_and_idempotency_key()
    {
        var callId = MiniVoiceEvents.NewCallId();
        await Post(MiniVoiceEvents.Event(callId, "call.answered", "in-progress", T0, variables: new { order = "B2" }));
        await Post(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0.AddMinutes(5)));

        await Actions.SettledAsync(app.ConnectionString, callId);

        var request = Assert.Single(app.Crm.For(callId));
        Assert.Equal("/calls", request.Path);
        Assert.Equal($"Bearer {ReceiverFactory.CrmToken}", request.Authorization);
        Assert.StartsWith("crm.sync:", request.IdempotencyKey, StringComparison.Ordinal);
        Assert.Equal(callId, request.Body.GetProperty("call").GetProperty("id").GetString());
        Assert.Equal("completed", request.Body.GetProperty("call").GetProperty("status").GetString());
        Assert.Equal("B2", request.Body.GetProperty("call").GetProperty("variables").GetProperty("order").GetString());
        Assert.Empty(app.Tickets.For(callId));
        Assert.Equal(1, await Actions.CountAsync(app.ConnectionString, callId, "crm.sync", "succeeded"));
    }

    [Fact]
    public async Task A_call_that_fails_several_times_gets_one_ticket_and_a_crm_sync_per_final_event()
    {
        var callId = MiniVoiceEvents.NewCallId();
        await Post(MiniVoiceEvents.Event(callId, "call.busy", "busy", T0));
        await Post(MiniVoiceEvents.Event(callId, "call.failed", "failed", T0.AddSeconds(30)));

        await Actions.SettledAsync(app.ConnectionString, callId);

        var ticket = Assert.Single(app.Tickets.For(callId));
        Assert.Equal("/tickets", ticket.Path);
        Assert.Equal($"Bearer {ReceiverFactory.TicketsToken}", ticket.Authorization);
        Assert.Equal($"ticket.create:{callId}", ticket.IdempotencyKey);
        Assert.Equal(callId, ticket.Body.GetProperty("call_id").GetString());
        Assert.Equal(2, app.Crm.For(callId).Count);
        Assert.Equal(2, app.Crm.For(callId).Select(r => r.IdempotencyKey).Distinct().Count());
    }

    [Fact]
    public async Task A_custom_ticket_status_is_not_configured_so_a_canceled_call_gets_no_ticket()
    {
        var callId = MiniVoiceEvents.NewCallId();
        await Post(MiniVoiceEvents.Event(callId, "call.hangup", "canceled", T0));

        await Actions.SettledAsync(app.ConnectionString, callId);

        Assert.Single(app.Crm.For(callId));
        Assert.Empty(app.Tickets.For(callId));
    }

    [Fact]
    public async Task A_non_final_event_creates_no_work()
    {
        var callId = MiniVoiceEvents.NewCallId();
        await Post(MiniVoiceEvents.Event(callId, "call.ringing", "ringing", T0));

        Assert.Equal(0, await Actions.CountAsync(app.ConnectionString, callId));
    }

    [Fact]
    public async Task Server_errors_are_retried_with_the_same_key_until_one_success()
    {
        var callId = MiniVoiceEvents.NewCallId();
        app.Crm.Script(callId, new StubReply(500), new StubReply(500), new StubReply(500), StubReply.Ok);

        await Post(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
        await Actions.SettledAsync(app.ConnectionString, callId);

        var requests = app.Crm.For(callId);
        Assert.Equal(4, requests.Count);
        Assert.Single(requests.Select(r => r.IdempotencyKey).Distinct());
        Assert.Equal(1, await Actions.CountAsync(app.ConnectionString, callId, "crm.sync", "succeeded"));
        Assert.Equal(4, await Db.CountAsync(app.ConnectionString, "SELECT attempts FROM call_actions WHERE call_id = $1", callId));
    }

    [Fact]
    public async Task A_400_fails_at_once_without_retrying_shows_on_the_call_and_on_its_jobs_dashboard_page()
    {
        var callId = MiniVoiceEvents.NewCallId();
        app.Crm.Script(callId, new StubReply(400));

        await Post(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
        await Actions.SettledAsync(app.ConnectionString, callId);

        Assert.Single(app.Crm.For(callId));
        var action = (await app.GetJsonAsync($"/calls/{callId}")).GetProperty("actions")[0];
        Assert.Equal("failed", action.GetProperty("state").GetString());
        Assert.Equal(1, action.GetProperty("attempts").GetInt32());
        Assert.Contains("400", action.GetProperty("last_error").GetString(), StringComparison.Ordinal);
        Assert.Equal("http", action.GetProperty("last_error_kind").GetString());
        Assert.Equal(400, action.GetProperty("last_http_status").GetInt32());
        // The batch job did its work (it is not a failed job): its result, on its dashboard page, says how the action ended.
        var actionId = action.GetProperty("id").GetInt64();
        await Eventually.WaitAsync(async () => await Actions.JobStateAsync(app.ConnectionString, callId, "crm.sync") == "Succeeded",
            TimeSpan.FromSeconds(10), "the batch job to be Succeeded");
        var result = await Actions.JobResultAsync(app.ConnectionString, callId, "crm.sync");
        Assert.Contains($"action {actionId} crm.sync call {callId}: failed: HTTP 400", result, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_429_retry_after_is_honoured_over_the_shorter_configured_delay()
    {
        var callId = MiniVoiceEvents.NewCallId();
        app.Crm.Script(callId, new StubReply(429, RetryAfter: TimeSpan.FromSeconds(3)), StubReply.Ok);

        await Post(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
        await Actions.SettledAsync(app.ConnectionString, callId);

        var requests = app.Crm.For(callId);
        Assert.Equal(2, requests.Count);
        var gap = requests[1].ReceivedAt - requests[0].ReceivedAt;
        var history = await Db.ScalarAsync<string>(app.ConnectionString,
            "SELECT string_agg(s.name || ' ' || to_char(s.createdat, 'HH24:MI:SS.MS') || ' ' || coalesce(s.reason,''), ' | ' ORDER BY s.id) FROM hangfire.state s JOIN call_actions a ON a.job_id::bigint = s.jobid WHERE a.call_id = $1", callId);
        Assert.True(gap >= TimeSpan.FromSeconds(3), $"retried after {gap.TotalSeconds:0.00} s, Retry-After said 3 s; {string.Join(", ", requests.Select(r => $"{r.AnsweredStatus}@{r.ReceivedAt:HH:mm:ss.fff}"))}; {history}");
    }

    [Fact]
    public async Task A_timeout_is_retried_and_succeeds_once()
    {
        var callId = MiniVoiceEvents.NewCallId();
        app.Crm.Script(callId, new StubReply(Delay: TimeSpan.FromSeconds(4)), StubReply.Ok);

        await Post(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
        await Actions.SettledAsync(app.ConnectionString, callId);

        Assert.Equal(2, app.Crm.For(callId).Count);
        Assert.Single(app.Crm.For(callId).Select(r => r.IdempotencyKey).Distinct());
        Assert.Equal(1, await Actions.CountAsync(app.ConnectionString, callId, "crm.sync", "succeeded"));
    }

    [Fact]
    public async Task A_request_applied_whose_answer_was_lost_is_retried_with_the_same_key_and_one_success_is_recorded()
    {
        var callId = MiniVoiceEvents.NewCallId();
        app.Crm.Script(callId, new StubReply(AbortAfterApplying: true), StubReply.Ok);

        await Post(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
        await Actions.SettledAsync(app.ConnectionString, callId);

        var requests = app.Crm.For(callId);
        Assert.Equal(2, requests.Count);
        Assert.Equal(requests[0].IdempotencyKey, requests[1].IdempotencyKey);
        Assert.Equal(1, await Actions.CountAsync(app.ConnectionString, callId, "crm.sync", "succeeded"));
    }

    [Fact]
    public async Task Exhausted_retries_leave_the_action_failed_and_visible_cost_no_job_per_failure_and_an_operator_retry_completes_it()
    {
        var callId = MiniVoiceEvents.NewCallId();
        app.Crm.Script(callId, Enumerable.Repeat(new StubReply(503), 5).ToArray());

        await Post(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
        await Actions.SettledAsync(app.ConnectionString, callId, TimeSpan.FromSeconds(40));

        var action = (await app.GetJsonAsync($"/calls/{callId}")).GetProperty("actions")[0];
        Assert.Equal("failed", action.GetProperty("state").GetString());
        Assert.Equal(5, action.GetProperty("attempts").GetInt32());
        Assert.Contains("503", action.GetProperty("last_error").GetString(), StringComparison.Ordinal);
        Assert.Equal("http", action.GetProperty("last_error_kind").GetString());
        // Five attempts ran in batch jobs that all did their work: no Failed job, no job of the action's own.
        // The ledger records the outcome inside the job, a moment before Hangfire stores the job's result with its Succeeded state.
        await Eventually.WaitAsync(async () => (await Actions.JobResultAsync(app.ConnectionString, callId, "crm.sync"))?
                .Contains("failed, retries used up: HTTP 503", StringComparison.Ordinal) == true,
            TimeSpan.FromSeconds(10), "the last batch's result to say the retries were used up");
        Assert.Equal(0, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM hangfire.job WHERE statename = 'Failed'"));

        using (var client = app.CreateClient())
        {
            using var retry = await client.PostAsync(new Uri($"/actions/{action.GetProperty("id").GetInt64()}/retry", UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        }
        await Eventually.WaitAsync(async () => await Actions.CountAsync(app.ConnectionString, callId, "crm.sync", "succeeded") == 1,
            TimeSpan.FromSeconds(15), "the retried action to succeed");
        Assert.Equal(6, app.Crm.For(callId).Count);
        Assert.Single(app.Crm.For(callId).Select(r => r.Body.GetRawText()).Distinct());
    }

    [Fact]
    public async Task Jobs_start_within_a_second_of_their_events_commit()
    {
        var latencies = new List<TimeSpan>();
        for (var i = 0; i < 20; i++)
        {
            var callId = MiniVoiceEvents.NewCallId();
            using var response = await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
            var committed = DateTimeOffset.UtcNow; // the 202 comes after the commit
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            await Eventually.WaitAsync(() => app.Crm.For(callId).Count == 1, TimeSpan.FromSeconds(5), "the CRM request");
            latencies.Add(app.Crm.For(callId)[0].ReceivedAt - committed);
        }
        var sorted = latencies.Order().ToList();
        Console.WriteLine($"pickup latency over {sorted.Count} jobs: p50 {sorted[sorted.Count / 2].TotalMilliseconds:0} ms, max {sorted[^1].TotalMilliseconds:0} ms; in order: {string.Join(" ", latencies.Select(l => l.TotalMilliseconds.ToString("0", System.Globalization.CultureInfo.InvariantCulture)))}");
        Assert.True(sorted[^1] < TimeSpan.FromSeconds(1), $"slowest pickup {sorted[^1].TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task Work_for_one_call_never_runs_concurrently_and_the_crm_ends_with_the_final_record()
    {
        var callId = MiniVoiceEvents.NewCallId();
        app.Crm.Script(callId, Enumerable.Repeat(new StubReply(Delay: TimeSpan.FromMilliseconds(150)), 12).ToArray());
        var burst = Enumerable.Range(0, 12).Select(i => MiniVoiceEvents.Event(callId, "call.data", "completed", T0.AddSeconds(i),
            variables: new Dictionary<string, string> { ["step"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) }));

        var answers = await Task.WhenAll(burst.Select(b => app.PostSignedAsync(b)));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Accepted, a.StatusCode));
        await Actions.SettledAsync(app.ConnectionString, callId);

        var requests = app.Crm.For(callId);
        Assert.Equal(12, requests.Count);
        for (var i = 1; i < requests.Count; i++)
        {
            Assert.True(requests[i].ReceivedAt >= requests[i - 1].FinishedAt,
                $"request {i} started at {requests[i].ReceivedAt:O}, before request {i - 1} finished at {requests[i - 1].FinishedAt:O}");
        }
        Assert.Equal("11", requests[^1].Body.GetProperty("call").GetProperty("variables").GetProperty("step").GetString());
        foreach (var a in answers)
        {
            a.Dispose();
        }
    }

    private async Task Post(string body)
    {
        using var response = await app.PostSignedAsync(body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }
}
