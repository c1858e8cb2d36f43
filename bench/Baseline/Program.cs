using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

// The ceiling for the service on this machine: read the body, parse it as JSON, answer 202.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
app.MapPost("/webhooks/minivoice", async (HttpRequest request) =>
{
    using var document = await JsonDocument.ParseAsync(request.Body);
    var callId = document.RootElement.GetProperty("call").GetProperty("id").GetString();
    return Results.Json(new { status = "accepted", call_id = callId }, statusCode: 202);
});

// Also the CRM / ticket stub for the job-pipeline runs: answers 200 after STUB_DELAY_MS (default 5 ms, like a quick
// remote API; 0 answers at once). Knobs (environment):
//   STUB_DELAY_MS  delay before each answer, default 5
//   STUB_OUTAGE=1  start in outage: /calls and /tickets answer 503 until POST /_control/outage/off
//   STUB_RECORD=1  keep every request (start, end, status, Idempotency-Key) for GET /_control/stats's window,
//                  overlap and per-key figures; without it only the counters are kept
// Control: POST /_control/outage/on | /_control/outage/off | /_control/reset, GET /_control/stats (JSON).
var stub = new Stub(
    int.TryParse(Environment.GetEnvironmentVariable("STUB_DELAY_MS"), out var delayMs) ? delayMs : 5,
    Environment.GetEnvironmentVariable("STUB_OUTAGE") == "1",
    Environment.GetEnvironmentVariable("STUB_RECORD") == "1");
app.MapPost("/calls", (HttpRequest request) => stub.AnswerAsync("calls", request));
app.MapPost("/tickets", (HttpRequest request) => stub.AnswerAsync("tickets", request));
app.MapPost("/_control/outage/on", () => { stub.Outage = true; return Results.Ok(new { outage = true }); });
app.MapPost("/_control/outage/off", () => { stub.Outage = false; return Results.Ok(new { outage = false }); });
app.MapPost("/_control/reset", () => { stub.Reset(); return Results.Ok(); });
app.MapGet("/_control/stats", () => Results.Json(stub.Stats()));

// Also an OTLP/HTTP sink for the tracing phase: accepts every export on /v1/traces and drops it (counted only), so
// the service's exporter costs what it costs in production and nothing backs up. GET /_control/otlp: the counts.
long otlpExports = 0, otlpBytes = 0;
app.MapPost("/v1/traces", async (HttpRequest request) =>
{
    var buffer = new byte[16 * 1024];
    int read;
    while ((read = await request.Body.ReadAsync(buffer)) > 0)
    {
        Interlocked.Add(ref otlpBytes, read);
    }
    Interlocked.Increment(ref otlpExports);
    return Results.Bytes([], "application/x-protobuf");
});
app.MapGet("/_control/otlp", () =>
    Results.Json(new { exports = Interlocked.Read(ref otlpExports), bytes = Interlocked.Read(ref otlpBytes) }));
app.Run();

/// <summary>What the stub saw on one path (/calls or /tickets).</summary>
internal sealed class PathRecord
{
    public long Requests;
    public long OutageRequests;
    public long Ok;
    public ConcurrentQueue<(long Start, long End, int Status)> Entries { get; } = new();
    /// <summary>Idempotency-Key → answers with a 2xx (0 when it was only ever refused).</summary>
    public ConcurrentDictionary<string, int> Keys { get; } = new(StringComparer.Ordinal);
}

internal sealed class Stub(int delayMs, bool outage, bool record)
{
    private readonly long _origin = Stopwatch.GetTimestamp();
    private volatile bool _outage = outage;
    private ConcurrentDictionary<string, PathRecord> _paths = new(StringComparer.Ordinal);

    public bool Outage { get => _outage; set => _outage = value; }

    public void Reset() => _paths = new(StringComparer.Ordinal);

    public async Task<IResult> AnswerAsync(string path, HttpRequest request)
    {
        var start = Stopwatch.GetTimestamp();
        var inOutage = _outage;   // the state the request arrived in decides its answer
        if (delayMs > 0)
        {
            await Task.Delay(delayMs);
        }
        var status = inOutage ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        var paths = _paths;
        var seen = paths.GetOrAdd(path, _ => new PathRecord());
        Interlocked.Increment(ref seen.Requests);
        if (inOutage)
        {
            Interlocked.Increment(ref seen.OutageRequests);
        }
        else
        {
            Interlocked.Increment(ref seen.Ok);
        }
        if (record)
        {
            seen.Entries.Enqueue((start, Stopwatch.GetTimestamp(), status));
            var key = request.Headers["Idempotency-Key"].ToString();
            seen.Keys.AddOrUpdate(key, inOutage ? 0 : 1, (_, ok) => inOutage ? ok : ok + 1);
        }
        return Results.StatusCode(status);
    }

    public Dictionary<string, object> Stats()
    {
        var result = new Dictionary<string, object>(StringComparer.Ordinal) { ["outage"] = _outage, ["recording"] = record };
        foreach (var name in new[] { "calls", "tickets" })
        {
            result[name] = _paths.TryGetValue(name, out var seen) ? Summary(seen) : Summary(new PathRecord());
        }
        return result;
    }

    private double Ms(long timestamp) => Math.Round((timestamp - _origin) * 1000.0 / Stopwatch.Frequency, 3);

    private Dictionary<string, object> Summary(PathRecord seen)
    {
        var entries = seen.Entries.ToArray();
        var starts = entries.Select(e => e.Start).Order().ToArray();
        // Most requests whose start falls in one sliding second [t, t + 1 s): t at each start is enough.
        var maxInSecond = 0;
        for (int i = 0, j = 0; i < starts.Length; i++)
        {
            while (j < starts.Length && starts[j] < starts[i] + Stopwatch.Frequency)
            {
                j++;
            }
            maxInSecond = Math.Max(maxInSecond, j - i);
        }
        // Most requests in flight at once: an end at the same instant as a start does not overlap it.
        var edges = entries.SelectMany(e => new[] { (At: e.Start, Step: 1), (At: e.End, Step: -1) })
            .OrderBy(e => e.At).ThenBy(e => e.Step).ToArray();
        int inFlight = 0, maxInFlight = 0;
        foreach (var edge in edges)
        {
            inFlight += edge.Step;
            maxInFlight = Math.Max(maxInFlight, inFlight);
        }
        var keys = seen.Keys.ToArray();
        return new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["requests"] = Interlocked.Read(ref seen.Requests),
            ["outage_requests"] = Interlocked.Read(ref seen.OutageRequests),
            ["ok"] = Interlocked.Read(ref seen.Ok),
            ["recorded"] = entries.Length,
            ["distinct_keys"] = keys.Length,
            ["keys_ok"] = keys.Count(k => k.Value >= 1),
            ["keys_ok_more_than_once"] = keys.Count(k => k.Value > 1),
            ["max_ok_per_key"] = keys.Length == 0 ? 0 : keys.Max(k => k.Value),
            ["max_in_1s"] = maxInSecond,
            ["max_concurrent"] = maxInFlight,
            ["first_start_ms"] = starts.Length == 0 ? 0 : Ms(starts[0]),
            ["last_start_ms"] = starts.Length == 0 ? 0 : Ms(starts[^1]),
        };
    }
}
