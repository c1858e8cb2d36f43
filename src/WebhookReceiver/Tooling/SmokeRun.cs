using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace WebhookReceiver.Tooling;

/// <summary>A step that did not pass; the message is what the step line says.</summary>
internal sealed class SmokeFailure(string message) : Exception(message);

/// <summary>
/// One smoke run: the steps in order, each timed (its work included) and printed as one line, then a summary. The paths
/// are MiniVoice's own advice — a normal path, an invalid input path, a no-answer path; a completed call, a caller
/// hangup and a destination failure — in the shape of its webhook example, with call IDs no real call can have.
/// </summary>
internal sealed class SmokeRun(HttpClient http, SmokeOptions o, TextWriter stdout)
{
    private static readonly string[] Done = ["succeeded", "skipped"];

    private readonly string _run = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture) + "_"
                                   + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));

    private readonly DateTimeOffset _t0 = DateTimeOffset.UtcNow;

    /// <summary>The completed call's final event as sent, redelivered by the last step.</summary>
    private (byte[] Body, string? WebhookId, string CallId)? _completed;

    public async Task<int> RunAsync()
    {
        (string Name, Func<Task<(string CallId, string Detail)>> Run)[] steps =
        [
            ("completed call", () => CallAsync("completed", "completed", ticket: false)),
            ("caller hangup", () => CallAsync("hangup", "completed", ticket: false, hangupByCaller: true)),
            ("busy", () => CallAsync("busy", "busy", ticket: true)),
            ("no-answer", () => CallAsync("noanswer", "no-answer", ticket: true)),
            ("invalid body", InvalidAsync),
            ("redelivery", RedeliveryAsync),
        ];
        await stdout.WriteLineAsync($"smoke {o.BaseUrl} (run {_run}, work timeout {o.Timeout.TotalSeconds:0} s)");
        var total = Stopwatch.StartNew();
        var failed = new List<string>();
        var width = steps.Max(s => s.Name.Length);
        foreach (var (name, run) in steps)
        {
            var clock = Stopwatch.StartNew();
            string line;
            try
            {
                var (callId, detail) = await run();
                line = $"ok   {name.PadRight(width)}   {callId} {detail}";
            }
            catch (Exception ex)
            {
                // Whatever went wrong (an answer of a shape this version does not know included) fails the step, not the run.
                failed.Add(name);
                line = $"FAIL {name.PadRight(width)}   {(ex is SmokeFailure ? ex.Message : $"{ex.GetType().Name}: {ex.Message}")}";
            }
            await stdout.WriteLineAsync($"{line}   {clock.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s");
        }
        var seconds = total.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture);
        await stdout.WriteLineAsync(failed.Count == 0
            ? $"smoke passed: {steps.Length} of {steps.Length} steps in {seconds} s"
            : $"smoke FAILED: {failed.Count} of {steps.Length} steps ({string.Join(", ", failed)}) in {seconds} s");
        return failed.Count == 0 ? 0 : 1;
    }

    /// <summary>ringing → (answered →) the final status; then the record and its work.</summary>
    private async Task<(string, string)> CallAsync(string kind, string final, bool ticket, bool hangupByCaller = false)
    {
        var callId = $"call_smoke_{_run}_{kind}";
        List<(string Event, string Status, object? Data)> events = final switch
        {
            "completed" => [("call.ringing", "ringing", null), ("call.answered", "in-progress", null),
                ("call.completed", "completed", hangupByCaller ? new { hangup_by = "caller", hangup_cause = "normal_clearing" } : null)],
            _ => [("call.ringing", "ringing", null), ("call." + final.Replace('-', '_'), final.Replace('-', '_'), null)],
        };
        var answers = new List<int>();
        for (var i = 0; i < events.Count; i++)
        {
            var body = Event(callId, events[i].Event, events[i].Status, _t0.AddSeconds(i * 5), events[i].Data);
            var (status, answer, webhookId) = await PostAsync(body);
            Expect(status == HttpStatusCode.Accepted && Text(answer, "status") == "accepted",
                $"{callId} {events[i].Event} answered {(int)status} {Compact(answer)} (want 202 accepted)");
            answers.Add((int)status);
            if (kind == "completed" && i == events.Count - 1)
            {
                _completed = (body, webhookId, callId);
            }
        }
        string[] work = ticket ? ["crm.sync", "ticket.create"] : ["crm.sync"];
        var record = await WaitForWorkAsync(callId, final, work);
        if (hangupByCaller)
        {
            var hangups = record.GetProperty("events").EnumerateArray()
                .Count(e => e.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Object && Text(d, "hangup_by") == "caller");
            Expect(hangups == 1, $"{callId} timeline shows no data.hangup_by=caller");
        }
        var states = string.Join(", ", work.Select(a => $"{a} {State(record, a)}"));
        return (callId, $"{string.Join(" ", answers.Distinct())} → {final}{(hangupByCaller ? " by caller" : "")}, {states}");
    }

    /// <summary>Fields MiniVoice would never send: a 400 naming them, quarantined for an operator, and no call record.</summary>
    private async Task<(string, string)> InvalidAsync()
    {
        var callId = $"call_smoke_{_run}_invalid";
        var body = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["event"] = "Call Completed",
            ["created_at"] = "29/05/2026 12:10",
            ["call"] = new JsonObject { ["id"] = callId, ["direction"] = "sideways" },
        }.ToJsonString());
        var (status, answer, _) = await PostAsync(body);
        Expect(status == HttpStatusCode.BadRequest, $"{callId} answered {(int)status} {Compact(answer)} (want 400)");
        var quarantine = answer is { } a && a.TryGetProperty("quarantine_id", out var q) && q.ValueKind == JsonValueKind.Number
            ? q.GetInt64()
            : throw new SmokeFailure($"{callId} 400 without a quarantine_id: {Compact(answer)}");
        var fields = answer.Value.TryGetProperty("errors", out var e) && e.ValueKind == JsonValueKind.Object
            ? string.Join(", ", e.EnumerateObject().Select(p => p.Name))
            : "";
        var (readStatus, _) = await GetCallAsync(callId);
        Expect(readStatus == HttpStatusCode.NotFound, $"{callId} invalid body created a call record (GET answered {(int)readStatus})");
        return (callId, $"400, quarantined as {quarantine} ({fields}); no call record");
    }

    /// <summary>The completed call's final event again, as MiniVoice redelivers it: 200 duplicate and no second work.</summary>
    private async Task<(string, string)> RedeliveryAsync()
    {
        var (body, webhookId, callId) = _completed ?? throw new SmokeFailure("no completed call to redeliver (that step failed)");
        var (status, answer, _) = await PostAsync(body, webhookId);
        Expect(status == HttpStatusCode.OK && Text(answer, "status") == "duplicate",
            $"{callId} redelivery answered {(int)status} {Compact(answer)} (want 200 duplicate)");
        var (readStatus, record) = await GetCallAsync(callId);
        Expect(readStatus == HttpStatusCode.OK, $"{callId} GET /calls answered {(int)readStatus}");
        var syncs = record?.GetProperty("actions").EnumerateArray().Count(a => Text(a, "action") == "crm.sync") ?? 0;
        Expect(syncs == 1, $"{callId} has {syncs} crm.sync actions after the redelivery (want 1)");
        return (callId, $"200 duplicate{(webhookId is null ? "" : $" ({webhookId})")}, still 1 crm.sync");
    }

    /// <summary>Polls the record until it is final with <paramref name="final"/> and each action succeeded or was skipped.</summary>
    private async Task<JsonElement> WaitForWorkAsync(string callId, string final, string[] work)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var (status, record) = await GetCallAsync(callId);
            Expect(status == HttpStatusCode.OK, $"{callId} GET /calls answered {(int)status}");
            var r = record!.Value;
            var waiting = Text(r, "status") != final || !r.GetProperty("is_final").GetBoolean()
                ? $"status {Text(r, "status")} (want {final}, final)"
                : null;
            foreach (var action in work)
            {
                var state = State(r, action);
                if (state == "failed")
                {
                    throw new SmokeFailure($"{callId} → {final}, {action} failed: {LastError(r, action)}");
                }
                var error = LastError(r, action);
                waiting ??= Done.Contains(state) ? null : $"{action} {state}" + (error is null ? "" : $" ({error})");
            }
            if (waiting is null)
            {
                return r;
            }
            if (deadline.Elapsed > o.Timeout)
            {
                throw new SmokeFailure($"{callId} after {o.Timeout.TotalSeconds:0} s: {waiting}");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
    }

    private async Task<(HttpStatusCode, JsonElement?, string?)> PostAsync(byte[] body, string? webhookId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(o.BaseUrl, SmokeOptions.WebhooksPath.TrimStart('/')))
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var headers = SigningTool.AuthHeaders(o.Key, o.Basic, webhookId, null, body);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        using var response = await http.SendAsync(request);
        return ((response.StatusCode), await JsonOrNullAsync(response), headers.FirstOrDefault(h => h.Name == "webhook-id").Value);
    }

    private async Task<(HttpStatusCode, JsonElement?)> GetCallAsync(string callId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(o.BaseUrl, "calls/" + Uri.EscapeDataString(callId)));
        if (o.Operator is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", SigningTool.BasicValue(o.Operator));
        }
        using var response = await http.SendAsync(request);
        Expect(response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden),
            $"{callId} GET /calls answered {(int)response.StatusCode}: check --operator");
        return (response.StatusCode, await JsonOrNullAsync(response));
    }

    private static async Task<JsonElement?> JsonOrNullAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        try
        {
            return text.Length == 0 ? null : JsonElement.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>MiniVoice's webhook example, with this run's call and times.</summary>
    private static byte[] Event(string callId, string name, string status, DateTimeOffset createdAt, object? data) =>
        Encoding.UTF8.GetBytes(new JsonObject
        {
            ["event"] = name,
            ["created_at"] = createdAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
            ["call"] = new JsonObject
            {
                ["id"] = callId, ["customer_id"] = "cust_smoke", ["application_id"] = "app_smoke", ["status"] = status,
                ["direction"] = "inbound", ["from"] = "+15551230001", ["to"] = "+15551230002",
            },
            ["variables"] = new JsonObject { ["smoke_run"] = callId },
            ["data"] = data is null ? new JsonObject() : JsonSerializer.SerializeToNode(data),
        }.ToJsonString());

    private static string State(JsonElement record, string action) =>
        record.GetProperty("actions").EnumerateArray().Where(a => Text(a, "action") == action).Select(a => Text(a, "state")).LastOrDefault()
        ?? "not created";

    private static string? LastError(JsonElement record, string action) =>
        record.GetProperty("actions").EnumerateArray().Where(a => Text(a, "action") == action).Select(a => Text(a, "last_error"))
            .LastOrDefault();

    private static string? Text(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()
            : null;

    private static string Compact(JsonElement? answer) =>
        answer is { } a ? (a.GetRawText() is var t && t.Length > 200 ? t[..200] + "…" : t) : "(no JSON)";

    private static void Expect(bool condition, string failure)
    {
        if (!condition)
        {
            throw new SmokeFailure(failure);
        }
    }
}
