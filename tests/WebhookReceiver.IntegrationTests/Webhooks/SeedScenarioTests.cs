using System.Net;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Webhooks;

/// <summary>
/// The test paths MiniVoice's docs ask for (seeds/minivoice-call-variables.txt): a completed call, a caller
/// hangup, destination failures, invalid input, and duplicate + out-of-order delivery — from fixture files.
/// </summary>
[Collection(ReceiverCollection.Name)]
public sealed class SeedScenarioTests(ReceiverFactory app)
{
    [Fact]
    public async Task A_completed_call_with_recording_transcript_and_ai_result_ends_completed_with_all_attached()
    {
        var callId = MiniVoiceEvents.NewCallId();
        foreach (var file in new[] { "webhook.call-ringing.json", "webhook.call-answered.json", "webhook.call-completed.json",
                     "webhook.call-recording.json", "webhook.call-ai-result.json" })
        {
            using var response = await app.PostSignedAsync(MiniVoiceEvents.FromFixture(file, callId));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var call = await app.GetJsonAsync($"/calls/{callId}");

        Assert.Equal("completed", call.GetProperty("status").GetString());
        Assert.True(call.GetProperty("is_final").GetBoolean());
        Assert.Equal("B2", call.GetProperty("variables").GetProperty("order").GetString());
        Assert.Equal("rec_123", call.GetProperty("recordings")[0].GetProperty("id").GetString());
        Assert.Equal("tr_123", call.GetProperty("transcripts")[0].GetProperty("id").GetString());
        Assert.Equal(2, call.GetProperty("ai_results").GetArrayLength());
        Assert.Equal("EUR", call.GetProperty("billing").GetProperty("currency").GetString());
        Assert.Equal(5, call.GetProperty("events").GetArrayLength());
        // completed, recording and AI result each left the call final: three syncs, the last with everything.
        await Actions.SettledAsync(app.ConnectionString, callId);
        var syncs = app.Crm.For(callId);
        Assert.Equal(3, syncs.Count);
        Assert.Contains(syncs, s => s.Body.GetProperty("call").GetProperty("ai_results").GetArrayLength() == 2);
        Assert.Empty(app.Tickets.For(callId));
    }

    [Fact]
    public async Task A_completed_call_sends_exactly_one_crm_request_and_no_ticket()
    {
        var callId = MiniVoiceEvents.NewCallId();
        foreach (var file in new[] { "webhook.call-ringing.json", "webhook.call-answered.json", "webhook.call-completed.json" })
        {
            using var response = await app.PostSignedAsync(MiniVoiceEvents.FromFixture(file, callId));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        await Actions.SettledAsync(app.ConnectionString, callId);

        var sync = Assert.Single(app.Crm.For(callId));
        Assert.Equal("completed", sync.Body.GetProperty("call").GetProperty("status").GetString());
        Assert.Empty(app.Tickets.For(callId));
    }

    [Fact]
    public async Task A_caller_hangup_ends_the_call_canceled_without_recordings_or_ticket()
    {
        var callId = MiniVoiceEvents.NewCallId();
        using (await app.PostSignedAsync(MiniVoiceEvents.FromFixture("webhook.call-ringing.json", callId))) { }
        using var response = await app.PostSignedAsync(MiniVoiceEvents.FromFixture("webhook.call-hangup.json", callId));

        var call = await app.GetJsonAsync($"/calls/{callId}");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("canceled", call.GetProperty("status").GetString());
        Assert.True(call.GetProperty("is_final").GetBoolean());
        Assert.Equal(0, call.GetProperty("recordings").GetArrayLength());
        await Actions.SettledAsync(app.ConnectionString, callId);
        Assert.Single(app.Crm.For(callId));
        Assert.Empty(app.Tickets.For(callId));
    }

    [Theory]
    [InlineData("webhook.call-failed.json", "failed")]
    [InlineData("webhook.call-busy.json", "busy")]
    [InlineData("webhook.call-no-answer.json", "no-answer")]
    public async Task A_destination_failure_ends_the_call_in_its_final_status(string fixture, string status)
    {
        var callId = MiniVoiceEvents.NewCallId();
        using (await app.PostSignedAsync(MiniVoiceEvents.FromFixture("webhook.call-ringing.json", callId))) { }
        using var response = await app.PostSignedAsync(MiniVoiceEvents.FromFixture(fixture, callId));

        var call = await app.GetJsonAsync($"/calls/{callId}");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(status, call.GetProperty("status").GetString());
        Assert.True(call.GetProperty("is_final").GetBoolean());
        Assert.Equal("outbound", call.GetProperty("direction").GetString());
        await Actions.SettledAsync(app.ConnectionString, callId);
        Assert.Single(app.Crm.For(callId));
        Assert.Equal(status, Assert.Single(app.Tickets.For(callId)).Body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_invalid_input_fixture_is_refused_naming_every_bad_field_and_quarantined()
    {
        var body = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "webhook.invalid.json"));

        using var response = await app.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.JsonAsync();
        var fields = problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.Equal(new HashSet<string> { "event", "created_at", "call.direction", "call.from", "variables.order" }, fields);
        Assert.Equal(body, await Db.ScalarAsync<byte[]>(app.ConnectionString,
            "SELECT raw_body FROM quarantined_webhooks WHERE id = $1", problem.GetProperty("quarantine_id").GetInt64()));
    }

    [Fact]
    public async Task Duplicate_and_out_of_order_deliveries_converge_on_one_completed_record()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var completed = MiniVoiceEvents.FromFixture("webhook.call-completed.json", callId);
        var answers = new List<HttpStatusCode>();
        foreach (var body in new[] { completed, MiniVoiceEvents.FromFixture("webhook.call-answered.json", callId), completed,
                     MiniVoiceEvents.FromFixture("webhook.call-ringing.json", callId), completed })
        {
            using var response = await app.PostBasicAsync(body);
            answers.Add(response.StatusCode);
        }

        var call = await app.GetJsonAsync($"/calls/{callId}");

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.OK, HttpStatusCode.Accepted, HttpStatusCode.OK], answers);
        Assert.Equal("completed", call.GetProperty("status").GetString());
        Assert.Equal(3, call.GetProperty("events").GetArrayLength());
        Assert.Equal(2, call.GetProperty("events").EnumerateArray().Count(e => e.GetProperty("out_of_order").GetBoolean()));
        // Three accepted events each left the call final; the two redeliveries added no work.
        await Actions.SettledAsync(app.ConnectionString, callId);
        Assert.Equal(3, await Actions.CountAsync(app.ConnectionString, callId));
        Assert.Equal(3, app.Crm.For(callId).Count);
        Assert.All(app.Crm.For(callId), r => Assert.Equal("completed", r.Body.GetProperty("call").GetProperty("status").GetString()));
    }
}
