using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using WebhookReceiver.Tooling;

namespace WebhookReceiver.Fixtures;

/// <summary>
/// `fixtures replay`: sends a fixture's bodies, byte for byte, to a running instance (signed with
/// <see cref="SigningTool.AuthHeaders"/>, the verifier's own construction), then reads the call record
/// back and compares its arrival-independent part (<see cref="ExpectedRecord"/>) with expected.json.
/// </summary>
internal sealed class FixtureReplay(ReplayOptions o, TextWriter stdout, TextWriter stderr, HttpMessageHandler? handler)
{
    private const string UserAgent = "WebhookReceiver-fixtures-replay";

    /// <returns>0 the record matches, 1 a difference or a refused event (or no answer), 2 not a fixture folder.</returns>
    public async Task<int> RunAsync()
    {
        var loaded = await LoadAsync();
        if (loaded is null)
        {
            return 2;
        }
        var (expected, callId, bodies) = loaded.Value;
        var seed = o.Seed ?? Random.Shared.Next();
        if (o.Shuffle)
        {
            new Random(seed).Shuffle(bodies);
        }
        await stdout.WriteLineAsync($"replaying {bodies.Length} events of call {callId} to {o.BaseUrl} " +
            (o.Shuffle ? $"in a shuffled order (--seed {seed.ToString(CultureInfo.InvariantCulture)})" : "in arrival order"));
        using var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.Timeout = TimeSpan.FromSeconds(30);
        http.BaseAddress = o.BaseUrl;
        try
        {
            foreach (var file in bodies)
            {
                if (!await SendAsync(http, file))
                {
                    return 1;
                }
            }
            return await CompareAsync(http, expected, callId);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await stderr.WriteLineAsync($"fixtures replay: {o.BaseUrl} did not answer: {ex.Message}");
            return 1;
        }
    }

    private async Task<(JsonObject Expected, string CallId, string[] Bodies)?> LoadAsync()
    {
        var expectedPath = Path.Combine(o.Dir, FixtureExport.ExpectedFile);
        if (!File.Exists(expectedPath))
        {
            await stderr.WriteLineAsync($"fixtures replay: {o.Dir} is not a fixture folder (no {FixtureExport.ExpectedFile})");
            return null;
        }
        JsonObject expected;
        try
        {
            expected = JsonNode.Parse(await File.ReadAllBytesAsync(expectedPath)) as JsonObject
                       ?? throw new JsonException("not a JSON object");
        }
        catch (JsonException ex)
        {
            await stderr.WriteLineAsync($"fixtures replay: {expectedPath} is not valid JSON: {ex.Message}");
            return null;
        }
        if ((string?)expected["id"] is not { Length: > 0 } callId)
        {
            await stderr.WriteLineAsync($"fixtures replay: {expectedPath} has no call \"id\"");
            return null;
        }
        var bodies = Directory.EnumerateFiles(o.Dir, "*.json")
            .Where(f => FixtureExport.IsBody(Path.GetFileName(f)))
            .Order(StringComparer.Ordinal).ToArray();
        if (bodies.Length == 0)
        {
            await stderr.WriteLineAsync($"fixtures replay: {o.Dir} holds no event bodies");
            return null;
        }
        return (expected, callId, bodies);
    }

    private async Task<bool> SendAsync(HttpClient http, string file)
    {
        var body = await File.ReadAllBytesAsync(file);
        var kept = await KeptHeadersAsync(file);
        var id = o.KeepIds ? (string?)kept?["webhook-id"] ?? (string?)kept?["svix-id"] ?? StableId(body) : null;
        byte[]? key = null;
        if (o.Secret is not null)
        {
            Webhooks.SigningSecret.TryDecode(o.Secret, out key);
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, "webhooks/minivoice") { Content = new ByteArrayContent(body) };
        // The recorded content type (a charset, say) when there is one: the instance sees what the sender sent.
        request.Content.Headers.ContentType = MediaTypeHeaderValue.TryParse((string?)kept?["content-type"], out var type)
            ? type
            : new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        foreach (var (name, value) in SigningTool.AuthHeaders(key, o.Basic, id, null, body))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        using var response = await http.SendAsync(request);
        var answer = await response.Content.ReadAsStringAsync();
        var status = (int)response.StatusCode;
        var what = response.IsSuccessStatusCode ? Answered(answer) : "";
        await stdout.WriteLineAsync($"  {status.ToString(CultureInfo.InvariantCulture)} {Path.GetFileName(file)}{what}");
        if (!response.IsSuccessStatusCode)
        {
            await stderr.WriteLineAsync(
                $"fixtures replay: {Path.GetFileName(file)} was refused ({status} {response.ReasonPhrase}): {answer}");
        }
        return response.IsSuccessStatusCode;
    }

    private async Task<int> CompareAsync(HttpClient http, JsonObject expected, string callId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "calls/" + Uri.EscapeDataString(callId));
        if (o.Operator is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", SigningTool.BasicValue(o.Operator));
        }
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            var hint = response.StatusCode is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden
                ? " (operator access: give --operator USER:PASS)"
                : "";
            await stderr.WriteLineAsync($"fixtures replay: GET /calls/{callId} answered {(int)response.StatusCode}{hint}");
            return 1;
        }
        var actual = ExpectedRecord.Of(JsonNode.Parse(text)!.AsObject());
        var differences = RecordDiff.Compare(expected, actual);
        if (differences.Count == 0)
        {
            await stdout.WriteLineAsync($"the record of call {callId} matches {FixtureExport.ExpectedFile}");
            return 0;
        }
        await stdout.WriteLineAsync($"the record of call {callId} differs from {FixtureExport.ExpectedFile} ({differences.Count} " +
            (differences.Count == 1 ? "difference" : "differences") + "):");
        foreach (var difference in differences)
        {
            await stdout.WriteLineAsync("  " + difference);
        }
        return 1;
    }

    private static async Task<JsonObject?> KeptHeadersAsync(string bodyFile)
    {
        var path = bodyFile[..^".json".Length] + FixtureExport.HeadersSuffix;
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(await File.ReadAllBytesAsync(path)) as JsonObject;
        }
        catch (JsonException)
        {
            return null; // headers are a help, not a requirement: the body is sent as JSON
        }
    }

    /// <summary>
    /// For --keep-ids, an event recorded without a webhook-id (it came with HTTP Basic) still needs one to be signed:
    /// one derived from its body, so that it too is the same event in every replay.
    /// </summary>
    private static string StableId(byte[] body) =>
        "msg_fixture_" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body))[..24];

    /// <summary>" accepted" / " duplicate" from the service's answer, when it says.</summary>
    private static string Answered(string answer)
    {
        try
        {
            return JsonNode.Parse(answer)?["status"] is JsonValue v && v.TryGetValue<string>(out var s) ? " " + s : "";
        }
        catch (JsonException)
        {
            return "";
        }
    }
}
