using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace WebhookReceiver.Fixtures;

/// <summary>
/// The part of a call record (GET /calls/{id}) that its events decide whatever order and time they arrive in:
/// what a fixture's expected.json holds, and what a replay compares. One function for both sides, so an export
/// and a replay cannot disagree about what is compared (README "Fixtures from real traffic").
/// </summary>
/// <remarks>
/// Left out, because they depend on arrival: event IDs, received_at, out_of_order (order), webhook_id (a replay
/// signs with fresh IDs), actions' IDs, states, attempts, errors, jobs and times (the destinations' answers and
/// timing), and how many crm.sync actions there are (one per event that leaves the call final, so it depends on
/// order). Kept as sets, because they are kept in arrival order: recordings, transcripts, AI results, the
/// timeline (sorted by event time, then name, then data) and the kinds of action.
/// </remarks>
internal static class ExpectedRecord
{
    private static readonly string[] Fields =
    [
        "id", "customer_id", "application_id", "direction", "from", "to", "status", "is_final", "first_event_at", "last_event_at",
        "variables", "billing", "events_total",
    ];

    private static readonly string[] ArrivalOrderedLists = ["recordings", "transcripts", "ai_results"];

    private static readonly string[] EventFields = ["event", "status", "created_at", "data"];

    /// <summary>The arrival-independent record of a GET /calls/{id} answer (snake_case JSON).</summary>
    public static JsonObject Of(JsonObject call)
    {
        var expected = new JsonObject();
        foreach (var name in Fields)
        {
            expected[name] = call[name]?.DeepClone();
        }
        foreach (var name in ArrivalOrderedLists)
        {
            expected[name] = call[name] is JsonArray items ? new JsonArray(Sorted(items.Select(i => i?.DeepClone()))) : null;
        }
        var events = (call["events"] as JsonArray ?? [])
            .Select(e => new JsonObject(EventFields.Select(f => KeyValuePair.Create(f, e?[f]?.DeepClone()))))
            .OrderBy(e => Time(e["created_at"]))
            .ThenBy(e => (string?)e["event"], StringComparer.Ordinal)
            .ThenBy(e => e["data"]?.ToJsonString(), StringComparer.Ordinal)
            .ToArray<JsonNode?>();
        expected["events"] = new JsonArray(events);
        var actions = (call["actions"] as JsonArray ?? []).Select(a => (string?)a?["action"]).OfType<string>()
            .Distinct().Order(StringComparer.Ordinal).Select(a => (JsonNode?)JsonValue.Create(a)).ToArray();
        expected["actions"] = new JsonArray(actions);
        return expected;
    }

    private static JsonNode?[] Sorted(IEnumerable<JsonNode?> items) =>
        items.OrderBy(i => i?.ToJsonString() ?? "null", StringComparer.Ordinal).ToArray();

    private static DateTimeOffset Time(JsonNode? value) =>
        value is JsonValue v && v.TryGetValue<string>(out var text)
        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time
            : DateTimeOffset.MinValue;

    /// <summary>How expected.json is written: indented, non-ASCII as is (the file is UTF-8).</summary>
    public static readonly JsonSerializerOptions FileOptions = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}

/// <summary>One difference between expected.json and the replayed record, at a JSON path.</summary>
internal sealed record RecordDifference(string Path, string Expected, string Actual)
{
    public override string ToString() => $"{Path}: expected {Expected}, actual {Actual}";
}

/// <summary>Compares two JSON trees; objects by name, arrays by position.</summary>
internal static class RecordDiff
{
    private const string Absent = "(absent)";

    public static List<RecordDifference> Compare(JsonNode? expected, JsonNode? actual)
    {
        var differences = new List<RecordDifference>();
        Walk("$", expected, actual, present: (true, true), differences);
        return differences;
    }

    private static void Walk(string path, JsonNode? expected, JsonNode? actual, (bool Expected, bool Actual) present,
        List<RecordDifference> differences)
    {
        if (expected is JsonObject eo && actual is JsonObject ao)
        {
            foreach (var name in eo.Select(p => p.Key).Union(ao.Select(p => p.Key), StringComparer.Ordinal))
            {
                Walk(Member(path, name), eo[name], ao[name], (eo.ContainsKey(name), ao.ContainsKey(name)), differences);
            }
            return;
        }
        if (expected is JsonArray ea && actual is JsonArray aa)
        {
            for (var i = 0; i < Math.Max(ea.Count, aa.Count); i++)
            {
                Walk($"{path}[{i}]", i < ea.Count ? ea[i] : null, i < aa.Count ? aa[i] : null, (i < ea.Count, i < aa.Count),
                    differences);
            }
            return;
        }
        var (e, a) = (Text(expected, present.Expected), Text(actual, present.Actual));
        if (e != a)
        {
            differences.Add(new RecordDifference(path, e, a));
        }
    }

    private static string Text(JsonNode? node, bool present) => !present ? Absent : node?.ToJsonString() ?? "null";

    private static string Member(string path, string name) =>
        name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') ? $"{path}.{name}" : $"{path}[{JsonSerializer.Serialize(name)}]";
}
