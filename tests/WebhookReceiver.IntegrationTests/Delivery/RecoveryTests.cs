using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Delivery;

/// <summary>
/// Operator repairs (issue 8, point 2) against real Hangfire, PostgreSQL and stubs: retry and cancel one action or
/// all matching ones, replay an event's workflows, re-ingest a quarantined body.
/// </summary>
[Collection(ReceiverCollection.Name)]
public sealed class RecoveryTests(ReceiverFactory app)
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Retrying_a_failed_action_sends_it_again_with_the_same_key_and_the_same_body()
    {
        var callId = MiniVoiceEvents.NewCallId();
        app.Crm.Script(callId, new StubReply(400));
        await PostAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
        await WaitForStateAsync(app, callId, "failed");
        var actionId = await ActionIdAsync(callId, "crm.sync");

        using var response = await PostOperatorAsync($"/actions/{actionId}/retry");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("pending", (await response.JsonAsync()).GetProperty("status").GetString());
        await Actions.SettledAsync(app.ConnectionString, callId);
        Assert.Equal(1, await Actions.CountAsync(app.ConnectionString, callId, "crm.sync", "succeeded"));
        var requests = app.Crm.For(callId);
        Assert.Equal(2, requests.Count);
        Assert.Single(requests.Select(r => r.IdempotencyKey).Distinct());
        Assert.Single(requests.Select(r => r.Body.GetRawText()).Distinct());
        Assert.Equal("local", await Db.ScalarAsync<string>(app.ConnectionString, "SELECT requested_by FROM call_actions WHERE id = $1", actionId));
        Assert.Contains(app.Logs.Events, e => e.MessageTemplate.Text.Contains("retried action", StringComparison.Ordinal)
                                              && e.Properties["Operator"].ToString() == "\"local\""
                                              && e.Properties["CallId"].ToString() == $"\"{callId}\"");
    }

    [Fact]
    public async Task Without_configured_credentials_the_audit_does_not_believe_a_name_in_a_Basic_header()
    {
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/actions/987654320/retry");
        request.Headers.Authorization = ReceiverFactory.BasicHeader("mallory", "anything");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var audited = Assert.Single(app.Logs.Events, e => e.Properties.TryGetValue("Path", out var path)
                                                         && path.ToString() == "\"/actions/987654320/retry\"");
        Assert.Equal("\"local\"", audited.Properties["Operator"].ToString());
    }

    [Fact]
    public async Task Retry_answers_409_for_a_succeeded_action_and_404_for_an_unknown_one()
    {
        var callId = MiniVoiceEvents.NewCallId();
        await PostAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
        await Actions.SettledAsync(app.ConnectionString, callId);
        var actionId = await ActionIdAsync(callId, "crm.sync");

        using var succeeded = await PostOperatorAsync($"/actions/{actionId}/retry");
        using var unknown = await PostOperatorAsync("/actions/987654321/retry");

        Assert.Equal(HttpStatusCode.Conflict, succeeded.StatusCode);
        Assert.Equal("application/problem+json", succeeded.Content.Headers.ContentType?.MediaType);
        Assert.Contains("replay", (await succeeded.JsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Single(app.Crm.For(callId));
    }

    [Fact]
    public async Task Cancelling_an_action_waiting_for_its_retry_marks_it_failed_until_retried()
    {
        await using var host = await LongRetriesAsync();
        var callId = MiniVoiceEvents.NewCallId();
        host.Crm.Script(callId, new StubReply(500));
        await PostAsync(host, MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
        await WaitForStateAsync(host, callId, "pending", attempts: 1);
        var actionId = await ActionIdAsync(host, callId, "crm.sync");

        using var cancel = await PostOperatorAsync(host, $"/actions/{actionId}/cancel");
        using var again = await PostOperatorAsync(host, $"/actions/{actionId}/cancel");

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(1, await Actions.CountAsync(host.ConnectionString, callId, "crm.sync", "failed"));
        Assert.Equal("canceled", await Db.ScalarAsync<string>(host.ConnectionString, "SELECT last_error_kind FROM call_actions WHERE id = $1", actionId));

        using var retry = await PostOperatorAsync(host, $"/actions/{actionId}/retry");
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        await Actions.SettledAsync(host.ConnectionString, callId);
        Assert.Equal(1, await Actions.CountAsync(host.ConnectionString, callId, "crm.sync", "succeeded"));
        Assert.Equal(2, host.Crm.For(callId).Count);
    }

    [Fact]
    public async Task Retry_now_of_an_action_waiting_for_its_retry_sends_it_at_once_with_a_fresh_budget()
    {
        await using var host = await LongRetriesAsync();
        var callId = MiniVoiceEvents.NewCallId();
        host.Crm.Script(callId, new StubReply(500));
        await PostAsync(host, MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
        await WaitForStateAsync(host, callId, "pending", attempts: 1);
        var actionId = await ActionIdAsync(host, callId, "crm.sync");

        using var retry = await PostOperatorAsync(host, $"/actions/{actionId}/retry");

        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        await Actions.SettledAsync(host.ConnectionString, callId, TimeSpan.FromSeconds(10));
        Assert.Equal(1, await Actions.CountAsync(host.ConnectionString, callId, "crm.sync", "succeeded"));
        Assert.Equal(1, await Db.ScalarAsync<int>(host.ConnectionString, "SELECT retry_from FROM call_actions WHERE id = $1", actionId));
    }

    [Fact]
    public async Task Bulk_retry_runs_as_a_job_over_every_matching_failed_action_and_leaves_the_others()
    {
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var matching = Enumerable.Range(0, 3).Select(_ => MiniVoiceEvents.NewCallId()).ToArray();
        var other = MiniVoiceEvents.NewCallId();
        foreach (var callId in matching)
        {
            app.Crm.Script(callId, new StubReply(400));
        }
        app.Crm.Script(other, new StubReply(404));
        foreach (var callId in matching.Append(other))
        {
            await PostAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
            await WaitForStateAsync(app, callId, "failed");
        }

        using var response = await PostOperatorAsync("/actions/retry",
            new { action = "crm.sync", error_kind = "http", http_status = 400, since });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var answer = await response.JsonAsync();
        Assert.Equal(3, answer.GetProperty("matching_now").GetInt64());
        var bulkJob = answer.GetProperty("job_id").GetString()!;
        await Eventually.WaitAsync(async () => await Db.ScalarAsync<string>(app.ConnectionString,
            "SELECT statename FROM hangfire.job WHERE id = $1::bigint", bulkJob) == "Succeeded", TimeSpan.FromSeconds(20), "the bulk job to finish");
        foreach (var callId in matching)
        {
            await Actions.SettledAsync(app.ConnectionString, callId);
            Assert.Equal(1, await Actions.CountAsync(app.ConnectionString, callId, "crm.sync", "succeeded"));
        }
        Assert.Equal(1, await Actions.CountAsync(app.ConnectionString, other, "crm.sync", "failed"));
        Assert.Single(app.Crm.For(other));
    }

    [Theory]
    [InlineData("{\"action\":\"sms.send\"}", "action")]
    [InlineData("{\"error_kind\":\"gremlins\"}", "error_kind")]
    [InlineData("{\"http_status\":42}", "http_status")]
    [InlineData("{\"since\":\"2026-06-02T00:00:00Z\",\"until\":\"2026-06-01T00:00:00Z\"}", "until")]
    [InlineData("{\"errorkind\":\"http\"}", "body")]
    [InlineData("[1,2]", "body")]
    public async Task A_bulk_filter_that_is_wrong_is_refused_with_the_field_named_and_nothing_runs(string filter, string field)
    {
        var jobsBefore = await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM hangfire.job WHERE invocationdata->>'Type' LIKE '%BulkActionJob%'");
        using var client = app.CreateClient();
        using var response = await client.PostAsync(new Uri("/actions/retry", UriKind.Relative), new StringContent(filter, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty(field, out _), await response.Content.ReadAsStringAsync());
        Assert.Equal(jobsBefore, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM hangfire.job WHERE invocationdata->>'Type' LIKE '%BulkActionJob%'"));
    }

    [Fact]
    public async Task Bulk_cancel_fails_every_matching_action_waiting_for_a_retry()
    {
        await using var host = await LongRetriesAsync();
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var calls = Enumerable.Range(0, 2).Select(_ => MiniVoiceEvents.NewCallId()).ToArray();
        foreach (var callId in calls)
        {
            host.Crm.Script(callId, new StubReply(500));
            await PostAsync(host, MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));
            await WaitForStateAsync(host, callId, "pending", attempts: 1);
        }

        using var response = await PostOperatorAsync(host, "/actions/cancel", new { action = "crm.sync", since });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        foreach (var callId in calls)
        {
            await Eventually.WaitAsync(async () => await Actions.CountAsync(host.ConnectionString, callId, "crm.sync", "failed") == 1,
                TimeSpan.FromSeconds(20), $"{callId}'s retry to be cancelled");
            Assert.Single(host.Crm.For(callId));
        }
    }

    [Fact]
    public async Task Replaying_an_event_sends_its_workflows_again_with_new_keys_recorded_as_replays()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var eventId = await PostAsync(MiniVoiceEvents.Event(callId, "call.busy", "busy", T0));
        await Actions.SettledAsync(app.ConnectionString, callId);

        using var response = await PostOperatorAsync($"/events/{eventId}/replay");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var replays = (await response.JsonAsync()).GetProperty("replays");
        Assert.Equal(["crm.sync", "ticket.create"], replays.EnumerateArray().Select(r => r.GetProperty("action").GetString()!).Order().ToArray());
        await Actions.SettledAsync(app.ConnectionString, callId);
        Assert.Equal(2, app.Crm.For(callId).Count);
        Assert.Equal(2, app.Tickets.For(callId).Count);
        Assert.Equal(2, app.Crm.For(callId).Select(r => r.IdempotencyKey).Distinct().Count());
        Assert.Contains(":replay:", app.Tickets.For(callId)[1].IdempotencyKey, StringComparison.Ordinal);
        Assert.Equal(2, await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM call_actions WHERE call_id = $1 AND replay_of IS NOT NULL AND requested_by = 'local' AND state = 'succeeded'", callId));
        Assert.Equal(4, await Actions.CountAsync(app.ConnectionString, callId));
    }

    [Fact]
    public async Task Replay_answers_404_for_an_unknown_event_409_for_one_that_caused_no_work_and_400_for_a_bad_action()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var ringing = await PostAsync(MiniVoiceEvents.Event(callId, "call.ringing", "ringing", T0));

        using var unknown = await PostOperatorAsync("/events/987654321/replay");
        using var nothing = await PostOperatorAsync($"/events/{ringing}/replay");
        using var bad = await PostOperatorAsync($"/events/{ringing}/replay?action=sms.send");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, nothing.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(0, await Actions.CountAsync(app.ConnectionString, callId));
    }

    [Fact]
    public async Task A_quarantined_body_is_validated_again_on_reingest_and_a_corrected_one_is_stored_once()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var bad = MiniVoiceEvents.Event(callId, "call.completed", "completed", T0, direction: "sideways");
        using var refused = await app.PostSignedAsync(bad);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var quarantineId = (await refused.JsonAsync()).GetProperty("quarantine_id").GetInt64();

        using var still = await PostOperatorAsync($"/quarantine/{quarantineId}/reingest");
        Assert.Equal(HttpStatusCode.BadRequest, still.StatusCode);
        Assert.True((await still.JsonAsync()).GetProperty("errors").EnumerateObject().Any());
        Assert.Equal(0, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM calls WHERE id = $1", callId));

        var corrected = JsonDocument.Parse(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0)).RootElement;
        using var stored = await PostOperatorAsync($"/quarantine/{quarantineId}/reingest", new { body = corrected });
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        var answer = await stored.JsonAsync();
        Assert.Equal("accepted", answer.GetProperty("status").GetString());
        var eventId = answer.GetProperty("event_id").GetInt64();
        await Actions.SettledAsync(app.ConnectionString, callId);
        Assert.Single(app.Crm.For(callId));

        using var twice = await PostOperatorAsync($"/quarantine/{quarantineId}/reingest", new { body = corrected });
        Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
        var view = await app.GetJsonAsync($"/quarantine/{quarantineId}");
        Assert.Equal(eventId, view.GetProperty("reingested_event_id").GetInt64());
        Assert.Contains("sideways", view.GetProperty("body").GetString(), StringComparison.Ordinal);
        Assert.Equal("local", view.GetProperty("reingested_by").GetString());
    }

    /// <summary>A host of its own whose first retry waits five minutes: an action stays "waiting for a retry" while the test acts on it.</summary>
    private static async Task<CustomReceiverFactory> LongRetriesAsync()
    {
        var host = new CustomReceiverFactory(null, new Dictionary<string, string?> { ["Jobs:RetryDelaysSeconds:0"] = "300" });
        await host.InitializeAsync();
        return host;
    }

    private Task<long> PostAsync(string json) => PostAsync(app, json);

    private static async Task<long> PostAsync(ReceiverFactory host, string json)
    {
        using var response = await host.PostSignedAsync(json);
        Assert.True(response.StatusCode is HttpStatusCode.Accepted, $"webhook answered {(int)response.StatusCode}");
        return (await response.JsonAsync()).GetProperty("event_id").GetInt64();
    }

    private Task<HttpResponseMessage> PostOperatorAsync(string path, object? body = null) => PostOperatorAsync(app, path, body);

    private static async Task<HttpResponseMessage> PostOperatorAsync(ReceiverFactory host, string path, object? body = null)
    {
        using var client = host.CreateClient();
        return body is null
            ? await client.PostAsync(new Uri(path, UriKind.Relative), null)
            : await client.PostAsJsonAsync(new Uri(path, UriKind.Relative), body);
    }

    private Task<long> ActionIdAsync(string callId, string action) => ActionIdAsync(app, callId, action);

    private static Task<long> ActionIdAsync(ReceiverFactory host, string callId, string action) => Db.ScalarAsync<long>(host.ConnectionString,
        "SELECT id FROM call_actions WHERE call_id = $1 AND action = $2 AND replay_of IS NULL", callId, action);

    /// <summary>Waits for the call's crm.sync row to be in <paramref name="state"/> (and, when given, to have made that many attempts).</summary>
    private static Task WaitForStateAsync(ReceiverFactory host, string callId, string state, int? attempts = null) => Eventually.WaitAsync(
        async () => await Db.CountAsync(host.ConnectionString,
            "SELECT count(*) FROM call_actions WHERE call_id = $1 AND action = 'crm.sync' AND state = $2 AND ($3::int IS NULL OR attempts = $3) " +
            "AND (lease_until IS NULL OR lease_until < now())", callId, state, (object?)attempts ?? DBNull.Value) == 1,
        TimeSpan.FromSeconds(20), $"{callId}'s crm.sync to be {state}", () => Actions.DescribeAsync(host.ConnectionString));
}
