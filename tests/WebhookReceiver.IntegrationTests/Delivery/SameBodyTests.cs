using System.Net;
using System.Text;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Delivery;

/// <summary>
/// Same body per key (issue 13 point 4, README "Background work"): every attempt of an action sends byte-identical bodies under
/// its Idempotency-Key, whatever happened to the call record meanwhile; and a 409 on a repeated key ("still in
/// progress", IETF Idempotency-Key draft) is retried, not failed.
/// </summary>
public sealed class SameBodyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_retried_crm_sync_sends_the_body_of_its_first_attempt_although_the_call_record_changed_in_between()
    {
        await using var host = await StartAsync();
        var database = host.ConnectionString;
        var callId = MiniVoiceEvents.NewCallId();
        host.Crm.Script(callId, new StubReply(503));
        var first = await PostAsync(host, MiniVoiceEvents.Event(callId, "call.completed", "completed", T0, variables: new { plan = "basic" }));
        await Eventually.WaitAsync(async () => await Db.CountAsync(database,
                "SELECT count(*) FROM call_actions WHERE event_id = $1 AND state = 'pending' AND attempts = 1 AND lease_owner IS NULL", first) == 1,
            TimeSpan.FromSeconds(15), "the first attempt to fail and wait for its retry", () => Actions.DescribeAsync(database));

        // Between the attempts, a later event (an AI result after completion) changes the call's variables.
        var second = await PostAsync(host, MiniVoiceEvents.Event(callId, "call.ai_result", "completed", T0.AddMinutes(2), variables: new { plan = "premium" }));
        var changedAt = DateTimeOffset.UtcNow;
        Assert.Equal("premium", await Db.ScalarAsync<string>(database, "SELECT variables ->> 'plan' FROM calls WHERE id = $1", callId));

        await Actions.SettledAsync(database, callId, TimeSpan.FromSeconds(20));

        var requests = host.Crm.For(callId);
        Assert.Equal([$"crm.sync:{first}", $"crm.sync:{first}", $"crm.sync:{second}"], requests.Select(r => r.IdempotencyKey ?? "").ToArray());
        Assert.Equal([503, 200, 200], requests.Select(r => r.AnsweredStatus).ToArray());
        Assert.True(requests[1].ReceivedAt > changedAt, "the retry was sent before the call record changed: this run proves nothing");
        // The retry repeats the first attempt byte for byte (the call as it was, the same synced_at) ...
        Assert.Equal(requests[0].Body.GetRawText(), requests[1].Body.GetRawText());
        Assert.Equal("basic", requests[1].Body.GetProperty("call").GetProperty("variables").GetProperty("plan").GetString());
        // ... which is the body the ledger fixed for the action; the later event's own action carries the new record.
        var stored = await Db.ScalarAsync<byte[]>(database, "SELECT payload FROM call_actions WHERE event_id = $1", first);
        Assert.Equal(requests[0].Body.GetRawText(), Encoding.UTF8.GetString(stored!));
        Assert.Equal("premium", requests[2].Body.GetProperty("call").GetProperty("variables").GetProperty("plan").GetString());
        Assert.Equal(2, await Db.CountAsync(database, "SELECT count(*) FROM call_actions WHERE call_id = $1 AND state = 'succeeded'", callId));
    }

    [Fact]
    public async Task A_409_on_a_repeated_key_is_retried_not_failed_and_then_succeeds_with_the_same_body()
    {
        await using var host = await StartAsync();
        var database = host.ConnectionString;
        var callId = MiniVoiceEvents.NewCallId();
        host.Crm.Script(callId, new StubReply(409, Body: "{\"error\":\"a request with this key is in progress\"}"));
        await PostAsync(host, MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));

        await Actions.SettledAsync(database, callId, TimeSpan.FromSeconds(20));

        Assert.Equal(1, await Db.CountAsync(database,
            "SELECT count(*) FROM call_actions WHERE call_id = $1 AND state = 'succeeded' AND attempts = 2 AND last_http_status = 200", callId));
        var requests = host.Crm.For(callId);
        Assert.Equal([409, 200], requests.Select(r => r.AnsweredStatus).ToArray());
        Assert.Single(requests.Select(r => (r.IdempotencyKey, r.Body.GetRawText())).Distinct());
        // The first batch recorded the 409 as "retry later", not as a failure.
        Assert.Equal(1, await Db.CountAsync(database,
            "SELECT count(*) FROM hangfire.state WHERE name = 'Succeeded' AND (data::jsonb ->> 'Result')::jsonb #>> '{}' LIKE '%call ' || $1 || ': retry in % s after HTTP 409%'",
            callId));
    }

    private static async Task<CustomReceiverFactory> StartAsync()
    {
        // Retries ~3 s apart (±20 %): time enough to change the call record between two attempts.
        var host = new CustomReceiverFactory(null, new Dictionary<string, string?>
        {
            ["Jobs:RecoveryAfterSeconds"] = "5",
            ["Jobs:RetryDelaysSeconds:0"] = "3",
            ["Jobs:RetryDelaysSeconds:1"] = "3",
        });
        await host.InitializeAsync();
        return host;
    }

    private static async Task<long> PostAsync(ReceiverFactory host, string json)
    {
        using var response = await host.PostSignedAsync(json);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.JsonAsync()).GetProperty("event_id").GetInt64();
    }
}
