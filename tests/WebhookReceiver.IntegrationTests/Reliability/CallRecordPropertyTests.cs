using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WebhookReceiver.IntegrationTests.Infrastructure;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.IntegrationTests.Reliability;

/// <summary>
/// Property-based check of the call record rules (README "Call records") against the real ingest statement,
/// through HTTP: random histories delivered in two random orders must give the same record, and the record
/// an oracle written here predicts. CsCheck is not referenced by this project, so histories come from a seeded
/// <see cref="Random"/>; every failure names the seed. Replay one with WEBHOOKRECEIVER_PROPERTY_SEED=&lt;seed&gt;.
/// </summary>
[Collection(ReceiverCollection.Name)]
public sealed class CallRecordPropertyTests(ReceiverFactory app)
{
    public const string SeedVariable = "WEBHOOKRECEIVER_PROPERTY_SEED";
    private const int Cases = 40;
    private const int BatchCases = 10;
    private const int CallsPerBatch = 8;
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly string[] Statuses =
        ["ringing", "in-progress", "answered", "completed", "failed", "busy", "no-answer", "no_answer", "canceled", "on_hold"];
    private static readonly string[] FinalCanonical = ["completed", "failed", "busy", "no-answer", "canceled"];
    private static readonly string[] KnownCanonical = ["queued", "initiated", "dialing", "ringing", "answered", "in-progress", .. FinalCanonical];
    private static readonly string[] VariableNames = ["a", "b", "c"];

    /// <summary>The call fields an event may carry or leave out, each with the few values a history picks from.</summary>
    private static readonly (string Name, string[] Values)[] CallFields =
    [
        ("customer_id", ["cust_1", "cust_2", "cust_3"]), ("application_id", ["app_1", "app_2"]), ("direction", ["inbound", "outbound"]),
        ("from", ["+15550000001", "+15550000002", "+15550000003"]), ("to", ["+15550000011", "+15550000012"]),
    ];

    /// <param name="Fields">Every call field by name: its value, or null when the event leaves the field out.</param>
    internal sealed record HistoryEvent(int Index, string Status, DateTimeOffset CreatedAt, IReadOnlyDictionary<string, string?> Variables,
        IReadOnlyDictionary<string, string?> Fields)
    {
        public override string ToString() =>
            $"#{Index} {Status} at +{(CreatedAt - T0).TotalMilliseconds:0} ms " +
            $"vars {{{string.Join(", ", Variables.Select(v => $"{v.Key}={v.Value ?? "null"}"))}}}" +
            $" call {{{string.Join(", ", Fields.Where(f => f.Value is not null).Select(f => $"{f.Key}={f.Value}"))}}}";
    }

    [Fact]
    public async Task Random_histories_in_two_random_orders_agree_with_each_other_and_with_the_oracle()
    {
        var seed = Environment.GetEnvironmentVariable(SeedVariable) is { Length: > 0 } fixedSeed
            ? int.Parse(fixedSeed, CultureInfo.InvariantCulture)
            : Random.Shared.Next();
        var random = new Random(seed);

        for (var n = 0; n < Cases; n++)
        {
            var history = History(random);
            var first = Shuffle(random, history.Count);
            var second = Shuffle(random, history.Count);
            while (second.SequenceEqual(first))
            {
                second = Shuffle(random, history.Count);
            }
            var what = $"seed {seed} (replay with {SeedVariable}={seed}), case {n}, history:\n  {string.Join("\n  ", history)}\n";

            var recordA = await DeliverAsync(history, first, what);
            var recordB = await DeliverAsync(history, second, what);
            what += $"orders [{string.Join(",", first)}] and [{string.Join(",", second)}]\nA: {Describe(recordA)}\nB: {Describe(recordB)}\n";

            Assert.True(Describe(recordA) == Describe(recordB), "the two arrival orders disagree: " + what);

            var expected = Oracle(history);
            Assert.True(expected.Status == Canonical(recordA.GetProperty("status").GetString()),
                $"status: expected {expected.Status} (sent as {expected.StatusAsSent}), {what}");
            Assert.True(expected.StoredStatus == recordA.GetProperty("status").GetString(),
                $"stored status spelling: expected {expected.StoredStatus}, {what}");
            Assert.True(expected.IsFinal == recordA.GetProperty("is_final").GetBoolean(), $"is_final: expected {expected.IsFinal}, {what}");
            Assert.True(expected.Variables == Variables(recordA), $"variables: expected {expected.Variables}, {what}");
            Assert.True(expected.First == recordA.GetProperty("first_event_at").GetDateTimeOffset(), $"first_event_at: expected {expected.First:O}, {what}");
            Assert.True(expected.Last == recordA.GetProperty("last_event_at").GetDateTimeOffset(), $"last_event_at: expected {expected.Last:O}, {what}");
            Assert.True(expected.Fields == Fields(recordA), $"call fields: expected {expected.Fields}, {what}");
        }
    }

    /// <summary>
    /// Equal times resolve by arrival order, also when one call's events share an ingest batch (the group commit sorts
    /// each batch by call ID). Histories whose events share a few instants, several calls interleaved in one arrival
    /// order, delivered once one by one (HTTP, each answered before the next is sent) and once as ONE batch of the
    /// writer: every call must end up the same both ways.
    /// </summary>
    [Fact]
    public async Task Events_of_one_call_in_one_ingest_batch_give_the_record_of_one_by_one_delivery()
    {
        var seed = Environment.GetEnvironmentVariable(SeedVariable) is { Length: > 0 } fixedSeed
            ? int.Parse(fixedSeed, CultureInfo.InvariantCulture)
            : Random.Shared.Next();
        var random = new Random(seed);

        for (var n = 0; n < BatchCases; n++)
        {
            var histories = Enumerable.Range(0, CallsPerBatch).Select(_ => History(random, instants: 3)).ToList();
            var arrivals = histories.SelectMany((history, call) => history.Select(e => (Call: call, Event: e))).ToArray();
            random.Shuffle(arrivals);
            var oneByOne = histories.Select(_ => MiniVoiceEvents.NewCallId()).ToArray();
            var batched = histories.Select(_ => MiniVoiceEvents.NewCallId()).ToArray();
            var what = $"seed {seed} (replay with {SeedVariable}={seed}), case {n}, arrivals:\n  " +
                       string.Join("\n  ", arrivals.Select(a => $"call {a.Call}: {a.Event}")) + "\n";

            foreach (var (call, e) in arrivals)
            {
                using var response = await app.PostSignedAsync(Body(oneByOne[call], e));
                Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"answered {(int)response.StatusCode}; {what}");
            }
            await IngestAsOneBatchAsync(arrivals.Select(a => Body(batched[a.Call], a.Event)).ToList(), batched, what);

            for (var call = 0; call < histories.Count; call++)
            {
                var expected = Describe(await app.GetJsonAsync($"/calls/{oneByOne[call]}"));
                var actual = Describe(await app.GetJsonAsync($"/calls/{batched[call]}"));
                Assert.True(expected == actual, $"call {call}: one by one {expected}\nin one batch {actual}\n{what}");
            }
        }
    }

    /// <summary>The app's own store behind a writer of its own, fed before it starts: its first read takes every event.</summary>
    private async Task IngestAsOneBatchAsync(List<string> bodies, string[] callIds, string what)
    {
        var writer = new IngestWriter(app.Services.GetRequiredService<IngestStore>(), app.Services.GetRequiredService<WorkSignal>(),
            Options.Create(new WebhookOptions { IngestWriters = 1, IngestBatchSize = bodies.Count, IngestQueueLimit = bodies.Count }),
            app.Services.GetRequiredService<WebhookReceiver.Observability.TraceContext>(), NullLogger<IngestWriter>.Instance);
        var stored = bodies.Select(body => writer.IngestAsync(Command(body))).ToList();
        await writer.StartAsync(CancellationToken.None);
        try
        {
            await Task.WhenAll(stored);
        }
        finally
        {
            await writer.StopAsync(CancellationToken.None);
        }
        Assert.All(stored, t => Assert.False(t.Result.Duplicate, what));
        // One transaction: now(), the events' received_at, is one instant for all of them.
        Assert.True(1 == await Db.CountAsync(app.ConnectionString,
            "SELECT count(DISTINCT received_at) FROM webhook_events WHERE call_id = ANY($1)", (object)callIds), "not one batch; " + what);
    }

    private static IngestCommand Command(string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        using var document = JsonDocument.Parse(bytes);
        return IngestCommand.For(WebhookPayloadReader.Read(document.RootElement), "msg_" + Guid.NewGuid().ToString("N"), bytes);
    }

    /// <param name="instants">0: distinct milliseconds within an hour; else events fall on that many instants (ties are the point).</param>
    private static List<HistoryEvent> History(Random random, int instants = 0)
    {
        var count = random.Next(2, 7);
        var offsets = new List<int>();
        while (offsets.Count < count)
        {
            var offset = instants > 0 ? random.Next(0, instants) * 1000 : random.Next(0, 3_600_000);
            if (instants > 0 || !offsets.Contains(offset))
            {
                offsets.Add(offset);
            }
        }
        return offsets.Select((offset, i) =>
        {
            var variables = new Dictionary<string, string?>();
            foreach (var name in VariableNames)
            {
                switch (random.Next(0, 20))
                {
                    case < 10:
                        break; // not mentioned
                    case < 16:
                        variables[name] = $"{name}{random.Next(0, 1000)}";
                        break;
                    default:
                        variables[name] = null; // removes the name
                        break;
                }
            }
            return new HistoryEvent(i, Statuses[random.Next(Statuses.Length)], T0.AddMilliseconds(offset), variables, RandomFields(random));
        }).ToList();
    }

    /// <summary>Each call field left out half the time, else one of its values: histories where the newest event lacks a field.</summary>
    private static Dictionary<string, string?> RandomFields(Random random) => CallFields.ToDictionary(
        f => f.Name, f => random.Next(0, 2) == 0 ? null : f.Values[random.Next(f.Values.Length)]);

    private static int[] Shuffle(Random random, int count)
    {
        var order = Enumerable.Range(0, count).ToArray();
        random.Shuffle(order);
        return order;
    }

    private async Task<JsonElement> DeliverAsync(List<HistoryEvent> history, int[] order, string what)
    {
        var callId = MiniVoiceEvents.NewCallId();
        foreach (var i in order)
        {
            var e = history[i];
            using var response = await app.PostSignedAsync(Body(callId, e));
            Assert.True(response.StatusCode == HttpStatusCode.Accepted,
                $"event #{i} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}; {what}");
        }
        return await app.GetJsonAsync($"/calls/{callId}");
    }

    private static string Body(string callId, HistoryEvent e) => MiniVoiceEvents.Event(callId,
        "call." + e.Status.ToLowerInvariant().Replace('-', '_'), e.Status, e.CreatedAt, variables: e.Variables, callFields: e.Fields);

    /// <summary>The rules, stated independently of the SQL: what the record must be after the whole history.</summary>
    private static (string Status, string StatusAsSent, string StoredStatus, bool IsFinal, string Variables, DateTimeOffset First,
        DateTimeOffset Last, string Fields) Oracle(List<HistoryEvent> history)
    {
        var finals = history.Where(e => FinalCanonical.Contains(Canonical(e.Status))).ToList();
        var winner = (finals.Count > 0 ? finals : history).MaxBy(e => e.CreatedAt)!;
        var canonical = Canonical(winner.Status);
        var stored = KnownCanonical.Contains(canonical) ? canonical : winner.Status; // unknown statuses are kept as sent

        var variables = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in VariableNames)
        {
            var latest = history.Where(e => e.Variables.ContainsKey(name)).MaxBy(e => e.CreatedAt);
            if (latest?.Variables[name] is { } value)
            {
                variables[name] = value;
            }
        }
        // Each call field separately: the newest event that carries it; an event without it does not count.
        var fields = CallFields.ToDictionary(f => f.Name,
            f => history.Where(e => e.Fields[f.Name] is not null).MaxBy(e => e.CreatedAt)?.Fields[f.Name]);
        return (canonical, winner.Status, stored, finals.Count > 0, JsonSerializer.Serialize(variables),
            history.Min(e => e.CreatedAt), history.Max(e => e.CreatedAt), FieldsText(fields));
    }

    private static string FieldsText(Dictionary<string, string?> fields) =>
        string.Join(" ", CallFields.Select(f => $"{f.Name}={fields[f.Name] ?? "null"}"));

    private static string Fields(JsonElement record) =>
        FieldsText(CallFields.ToDictionary(f => f.Name, f => record.GetProperty(f.Name).GetString()));

    private static string Canonical(string? status) => (status ?? "").ToLowerInvariant().Replace('_', '-');

    private static string Variables(JsonElement record) => JsonSerializer.Serialize(new SortedDictionary<string, string?>(
        record.GetProperty("variables").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()), StringComparer.Ordinal));

    private static string Describe(JsonElement record)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"status={record.GetProperty("status").GetString()} ");
        text.Append(CultureInfo.InvariantCulture, $"is_final={record.GetProperty("is_final").GetBoolean()} ");
        text.Append(CultureInfo.InvariantCulture, $"variables={Variables(record)} ");
        text.Append(CultureInfo.InvariantCulture, $"first={record.GetProperty("first_event_at").GetDateTimeOffset():O} ");
        text.Append(CultureInfo.InvariantCulture, $"last={record.GetProperty("last_event_at").GetDateTimeOffset():O} ");
        text.Append(Fields(record));
        return text.ToString();
    }
}
