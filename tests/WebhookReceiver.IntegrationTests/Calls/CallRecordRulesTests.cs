using System.Net;
using System.Text.Json;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Calls;

/// <summary>README "Call records": out-of-order and repeated deliveries converge on the same call record.</summary>
[Collection(ReceiverCollection.Name)]
public sealed class CallRecordRulesTests(ReceiverFactory app)
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);

    private static List<Func<string, string>> LifeOfACall() =>
    [
        id => MiniVoiceEvents.Event(id, "call.ringing", "ringing", T0.AddSeconds(5), variables: new { order = "A1" }),
        id => MiniVoiceEvents.Event(id, "call.answered", "in_progress", T0.AddSeconds(12),
            variables: new Dictionary<string, string?> { ["order"] = "B2", ["language"] = "en", ["promo"] = "x" }),
        id => MiniVoiceEvents.Event(id, "call.completed", "completed", T0.AddSeconds(600)),
        id => MiniVoiceEvents.Event(id, "call.recording.ready", "completed", T0.AddSeconds(630),
            data: new { recording = new { id = "rec_1", duration_seconds = 588 } }),
        id => MiniVoiceEvents.Event(id, "call.ai.completed", "completed", T0.AddSeconds(660),
            variables: new Dictionary<string, string?> { ["promo"] = null },
            data: new { ai_results = new object[] { new { type = "scoring", score = 0.92 } }, billing = new { amount = "0.042" } }),
    ];

    [Fact]
    public async Task Every_arrival_order_of_a_calls_five_events_gives_the_same_record()
    {
        var events = LifeOfACall();
        var orders = Permutations(Enumerable.Range(0, events.Count).ToArray()).ToList();
        Assert.Equal(120, orders.Count);

        foreach (var order in orders)
        {
            var callId = MiniVoiceEvents.NewCallId();
            foreach (var i in order)
            {
                using var response = await app.PostSignedAsync(events[i](callId));
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }
            var call = await app.GetJsonAsync($"/calls/{callId}");
            var what = $"arrival order {string.Join(",", order)}";
            Assert.True("completed" == call.GetProperty("status").GetString(), what);
            Assert.True(call.GetProperty("is_final").GetBoolean(), what);
            Assert.Equal("{\"order\":\"B2\",\"language\":\"en\"}", Canonical(call.GetProperty("variables")));
            Assert.Equal(1, call.GetProperty("recordings").GetArrayLength());
            Assert.Equal(1, call.GetProperty("ai_results").GetArrayLength());
            Assert.Equal("0.042", call.GetProperty("billing").GetProperty("amount").GetString());
            Assert.Equal(T0.AddSeconds(5), call.GetProperty("first_event_at").GetDateTimeOffset());
            Assert.Equal(T0.AddSeconds(660), call.GetProperty("last_event_at").GetDateTimeOffset());
            // An arrival is out of order exactly when a later-timed event of the call came before it.
            var expectedLate = order.Select((e, pos) => order.Take(pos).Any(earlier => earlier > e)).Count(x => x);
            var flagged = call.GetProperty("events").EnumerateArray().Count(e => e.GetProperty("out_of_order").GetBoolean());
            Assert.True(expectedLate == flagged, $"{what}: expected {expectedLate} out-of-order arrivals, saw {flagged}");
        }
    }

    [Fact]
    public async Task A_final_status_is_never_replaced_by_a_later_non_final_one()
    {
        var callId = MiniVoiceEvents.NewCallId();
        await PostAll(
            MiniVoiceEvents.Event(callId, "call.completed", "completed", T0.AddSeconds(10)),
            MiniVoiceEvents.Event(callId, "call.answered", "in-progress", T0.AddSeconds(99)));

        var call = await app.GetJsonAsync($"/calls/{callId}");

        Assert.Equal("completed", call.GetProperty("status").GetString());
        Assert.True(call.GetProperty("is_final").GetBoolean());
    }

    [Fact]
    public async Task Between_two_finals_the_later_created_at_wins_whatever_the_arrival_order()
    {
        var a = MiniVoiceEvents.NewCallId();
        var b = MiniVoiceEvents.NewCallId();
        await PostAll(
            MiniVoiceEvents.Event(a, "call.busy", "busy", T0.AddSeconds(10)),
            MiniVoiceEvents.Event(a, "call.no_answer", "no_answer", T0.AddSeconds(20)));
        await PostAll(
            MiniVoiceEvents.Event(b, "call.no_answer", "no_answer", T0.AddSeconds(20)),
            MiniVoiceEvents.Event(b, "call.busy", "busy", T0.AddSeconds(10)));

        foreach (var id in new[] { a, b })
        {
            var call = await app.GetJsonAsync($"/calls/{id}");
            Assert.Equal("no-answer", call.GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task A_null_variable_removes_the_name_and_an_older_value_arriving_later_does_not_revive_it()
    {
        var callId = MiniVoiceEvents.NewCallId();
        await PostAll(
            MiniVoiceEvents.Event(callId, "call.answered", "in-progress", T0.AddSeconds(10), variables: new { order = "B2", keep = "yes" }),
            MiniVoiceEvents.Event(callId, "call.variables", "in-progress", T0.AddSeconds(30), variables: new Dictionary<string, string?> { ["order"] = null }),
            MiniVoiceEvents.Event(callId, "call.variables", "in-progress", T0.AddSeconds(20), variables: new { order = "C3", late = "1" }));

        var call = await app.GetJsonAsync($"/calls/{callId}");

        Assert.Equal("{\"keep\":\"yes\",\"late\":\"1\"}", Canonical(call.GetProperty("variables")));
    }

    [Fact]
    public async Task A_later_value_wins_over_an_earlier_one_whatever_the_arrival_order()
    {
        var callId = MiniVoiceEvents.NewCallId();
        await PostAll(
            MiniVoiceEvents.Event(callId, "call.variables", "in-progress", T0.AddSeconds(20), variables: new { order = "new" }),
            MiniVoiceEvents.Event(callId, "call.variables", "in-progress", T0.AddSeconds(10), variables: new { order = "old" }));

        var call = await app.GetJsonAsync($"/calls/{callId}");

        Assert.Equal("new", call.GetProperty("variables").GetProperty("order").GetString());
    }

    [Fact]
    public async Task Each_call_field_is_won_by_the_newest_event_that_carries_it_whatever_the_arrival_order()
    {
        // E3 is the newest event but carries no customer: E2's customer wins. Every field has its own newest carrier.
        var e1 = Fields(("customer_id", "cust_A"), ("application_id", "app_1"), ("direction", "outbound"), ("from", "+15550000001"),
            ("to", "+15550000011"));
        var e2 = Fields(("customer_id", "cust_B"), ("application_id", null), ("direction", null), ("from", "+15550000002"), ("to", null));
        var e3 = Fields(("customer_id", null), ("application_id", "app_3"), ("direction", null), ("from", null), ("to", "+15550000033"));
        List<Func<string, string>> events =
        [
            id => MiniVoiceEvents.Event(id, "call.ringing", "ringing", T0.AddSeconds(10), callFields: e1),
            id => MiniVoiceEvents.Event(id, "call.answered", "in-progress", T0.AddSeconds(20), callFields: e2),
            id => MiniVoiceEvents.Event(id, "call.recording.ready", "in-progress", T0.AddSeconds(30), callFields: e3),
        ];

        foreach (var order in Permutations([0, 1, 2]))
        {
            var callId = MiniVoiceEvents.NewCallId();
            await PostAll(order.Select(i => events[i](callId)).ToArray());

            var call = await app.GetJsonAsync($"/calls/{callId}");

            var what = $"arrival order E{string.Join(",E", order.Select(i => i + 1))}";
            Assert.True("cust_B" == call.GetProperty("customer_id").GetString(), what);
            Assert.True("app_3" == call.GetProperty("application_id").GetString(), what);
            Assert.True("outbound" == call.GetProperty("direction").GetString(), what);
            Assert.True("+15550000002" == call.GetProperty("from").GetString(), what);
            Assert.True("+15550000033" == call.GetProperty("to").GetString(), what);
        }
    }

    [Fact]
    public async Task Between_two_events_of_the_same_time_the_later_arrival_sets_a_call_field()
    {
        foreach (var (first, second) in new[] { ("cust_A", "cust_B"), ("cust_B", "cust_A") })
        {
            var callId = MiniVoiceEvents.NewCallId();
            await PostAll(
                MiniVoiceEvents.Event(callId, "call.answered", "in-progress", T0, callFields: Fields(("customer_id", first))),
                MiniVoiceEvents.Event(callId, "call.updated", "in-progress", T0, callFields: Fields(("customer_id", second))));

            var call = await app.GetJsonAsync($"/calls/{callId}");

            Assert.Equal(second, call.GetProperty("customer_id").GetString());
        }
    }

    [Fact]
    public async Task A_call_without_recordings_transcripts_ai_results_or_billing_says_so_with_empty_values()
    {
        var callId = MiniVoiceEvents.NewCallId();
        await PostAll(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0));

        var call = await app.GetJsonAsync($"/calls/{callId}");

        Assert.Equal(0, call.GetProperty("recordings").GetArrayLength());
        Assert.Equal(0, call.GetProperty("transcripts").GetArrayLength());
        Assert.Equal(0, call.GetProperty("ai_results").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, call.GetProperty("billing").ValueKind);
    }

    [Fact]
    public async Task Data_items_in_odd_shapes_are_kept_without_being_assumed()
    {
        var callId = MiniVoiceEvents.NewCallId();
        await PostAll(
            MiniVoiceEvents.Event(callId, "call.recording.ready", "completed", T0, data: new { recordings = new object[] { new { id = "r1" }, new { id = "r2" } } }),
            MiniVoiceEvents.Event(callId, "call.recording.ready", "completed", T0.AddSeconds(1), data: new { recording = new { id = "r2" } }),
            MiniVoiceEvents.Event(callId, "call.transcribed", "completed", T0.AddSeconds(2), data: new { transcript = "plain text transcript", billing = "not an object" }));

        var call = await app.GetJsonAsync($"/calls/{callId}");

        Assert.Equal(2, call.GetProperty("recordings").GetArrayLength());
        Assert.Equal("plain text transcript", call.GetProperty("transcripts")[0].GetString());
        Assert.Equal(JsonValueKind.Null, call.GetProperty("billing").ValueKind);
    }

    private async Task PostAll(params string[] bodies)
    {
        foreach (var body in bodies)
        {
            using var response = await app.PostSignedAsync(body);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
    }

    private static Dictionary<string, string?> Fields(params (string Name, string? Value)[] fields) =>
        fields.ToDictionary(f => f.Name, f => f.Value);

    private static string Canonical(JsonElement obj) => JsonSerializer.Serialize(
        obj.EnumerateObject().OrderBy(p => p.Name == "order" ? "" : p.Name, StringComparer.Ordinal)
            .ToDictionary(p => p.Name, p => p.Value.GetString()));

    private static IEnumerable<int[]> Permutations(int[] items) => items.Length <= 1
        ? [items]
        : items.SelectMany(item => Permutations(items.Where(i => i != item).ToArray()).Select(rest => new[] { item }.Concat(rest).ToArray()));
}
