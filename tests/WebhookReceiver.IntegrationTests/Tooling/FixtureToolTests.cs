using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using WebhookReceiver.Fixtures;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Tooling;

/// <summary>
/// `fixtures export` (the app as a process, on the source instance's database) and `fixtures replay` into fresh
/// instances: the same record whatever the order; a difference is printed and exits 1 (README "Fixtures from real traffic").
/// </summary>
[Collection(ReceiverCollection.Name)]
public sealed class FixtureToolTests(ReceiverFactory app) : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 8, 3, 10, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Directory.CreateTempSubdirectory("wr-fixtures-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Export_writes_each_body_byte_for_byte_with_its_headers_in_arrival_order_and_the_expected_record()
    {
        var (callId, sent) = await RecordCallAsync();
        var dir = Path.Combine(_dir, "export");

        var (exit, output) = await ExportAsync(callId, dir);

        Assert.True(exit == 0, output);
        Assert.Contains($"exported call {callId}: 5 events in arrival order", output, StringComparison.Ordinal);
        var bodies = BodyFiles(dir);
        Assert.Equal(["001-call.ringing.json", "002-call.completed.json", "003-call.answered.json", "004-call.recording.json",
            "005-call.ai_result.json"], bodies.Select(Path.GetFileName));
        Assert.Equal(sent, bodies.Select(File.ReadAllBytes)); // byte for byte: spacing, key order, trailing newline, non-ASCII
        var headers = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "002-call.completed.headers.json")))!.AsObject();
        Assert.Equal("signature:0", (string?)headers["authenticated_by"]);
        Assert.Equal("MiniVoice-Webhooks/2.1", (string?)headers["user-agent"]);
        Assert.False(headers.ContainsKey("webhook-signature"));
        var basic = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "005-call.ai_result.headers.json")))!.AsObject();
        Assert.Equal("basic", (string?)basic["authenticated_by"]);
        Assert.False(basic.ContainsKey("webhook-id"));

        var expected = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "expected.json")))!.AsObject();
        Assert.Equal(callId, (string?)expected["id"]);
        Assert.Equal("completed", (string?)expected["status"]);
        Assert.Equal(5, (int)expected["events_total"]!);
        // Arrival-dependent parts are left out: IDs, arrival times, out-of-order flags, webhook IDs, action states.
        var text = expected.ToJsonString();
        foreach (var left in new[] { "received_at", "out_of_order", "webhook_id", "updated_at", "attempts", "\"state\"" })
        {
            Assert.DoesNotContain(left, text, StringComparison.Ordinal);
        }
        Assert.Equal(["call.ringing", "call.answered", "call.completed", "call.recording", "call.ai_result"],
            expected["events"]!.AsArray().Select(e => (string?)e!["event"])); // by event time, not arrival
        Assert.Equal(["crm.sync"], expected["actions"]!.AsArray().Select(a => (string?)a));
    }

    [Fact]
    public async Task Replaying_into_fresh_instances_gives_the_same_record_in_order_and_shuffled()
    {
        var (callId, _) = await RecordCallAsync();
        var dir = Path.Combine(_dir, "replay");
        Assert.Equal(0, (await ExportAsync(callId, dir)).Exit);

        await using (var fresh = await FreshInstanceAsync())
        {
            var (exit, output, errors) = await ReplayAsync(dir, "--url", fresh.Url, "--secret", fresh.Secret, "--operator", FreshInstance.Operator);
            Assert.True(exit == 0, output + errors);
            Assert.Contains($"replaying 5 events of call {callId}", output, StringComparison.Ordinal);
            Assert.Contains("in arrival order", output, StringComparison.Ordinal);
            Assert.Equal(5, output.Split('\n').Count(l => l.StartsWith("  202 ", StringComparison.Ordinal)));
            Assert.Contains($"the record of call {callId} matches expected.json", output, StringComparison.Ordinal);
            Assert.DoesNotContain(fresh.Secret, output + errors, StringComparison.Ordinal);
            Assert.DoesNotContain(AppProcess.OperatorPassword, output + errors, StringComparison.Ordinal);
        }

        await using (var fresh = await FreshInstanceAsync())
        {
            var (exit, output, errors) = await ReplayAsync(dir, "--url", fresh.Url + "/webhooks/minivoice", "--basic",
                $"{ReceiverFactory.BasicUser}:{ReceiverFactory.BasicPassword}", "--operator", FreshInstance.Operator, "--shuffle", "--seed", "3");
            Assert.True(exit == 0, output + errors);
            Assert.Contains("in a shuffled order (--seed 3)", output, StringComparison.Ordinal);
            var order = output.Split('\n').Where(l => l.StartsWith("  202 ", StringComparison.Ordinal)).Select(l => l.Split(' ')[3]).ToList();
            Assert.Equal(5, order.Count);
            Assert.NotEqual(order.Order(StringComparer.Ordinal), order); // really another order than the recorded one
            Assert.Contains($"the record of call {callId} matches expected.json", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_replay_whose_expected_record_was_edited_prints_each_difference_and_exits_1()
    {
        var (callId, _) = await RecordCallAsync();
        var dir = Path.Combine(_dir, "edited");
        Assert.Equal(0, (await ExportAsync(callId, dir)).Exit);
        var path = Path.Combine(dir, "expected.json");
        var expected = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        expected["status"] = "busy";
        expected["variables"]!["order"] = "Z9";
        File.WriteAllText(path, expected.ToJsonString());

        await using var fresh = await FreshInstanceAsync();
        var (exit, output, _) = await ReplayAsync(dir, "--url", fresh.Url, "--secret", fresh.Secret, "--operator", FreshInstance.Operator);

        Assert.Equal(1, exit);
        Assert.Contains($"the record of call {callId} differs from expected.json (2 differences):", output, StringComparison.Ordinal);
        Assert.Contains("  $.status: expected \"busy\", actual \"completed\"", output, StringComparison.Ordinal);
        Assert.Contains("  $.variables.order: expected \"Z9\", actual \"B2\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replaying_twice_into_one_instance_stores_the_events_again_unless_the_recorded_ids_are_kept()
    {
        var (callId, _) = await RecordCallAsync();
        var dir = Path.Combine(_dir, "twice");
        Assert.Equal(0, (await ExportAsync(callId, dir)).Exit);
        await using var fresh = await FreshInstanceAsync();
        string[] target = ["--url", fresh.Url, "--secret", fresh.Secret, "--operator", FreshInstance.Operator];

        var first = await ReplayAsync([dir, .. target, "--keep-ids"]);
        var duplicates = await ReplayAsync([dir, .. target, "--keep-ids"]);
        var freshIds = await ReplayAsync([dir, .. target]);

        Assert.Equal(0, first.Exit);
        Assert.Equal(0, duplicates.Exit); // the recorded webhook-ids again: every event a duplicate, the record unchanged
        Assert.Equal(5, duplicates.Output.Split('\n').Count(l => l.StartsWith("  200 ", StringComparison.Ordinal) && l.EndsWith(" duplicate", StringComparison.Ordinal)));
        Assert.Equal(1, freshIds.Exit); // new webhook-ids are new events by the service's rules: stored a second time
        Assert.Contains("  $.events_total: expected 5, actual 10", freshIds.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_console_call_page_offers_the_same_files_as_a_zip()
    {
        var (callId, _) = await RecordCallAsync();
        var dir = Path.Combine(_dir, "zip");
        Assert.Equal(0, (await ExportAsync(callId, dir)).Exit);
        using var client = app.CreateClient();

        var page = await client.GetStringAsync(new Uri($"/console/calls/{callId}", UriKind.Relative));
        Assert.Contains($"href=\"/console/calls/{callId}/fixture.zip\" download>Download as fixture</a>", page, StringComparison.Ordinal);
        using var response = await client.GetAsync(new Uri($"/console/calls/{callId}/fixture.zip", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal($"{callId}-fixture.zip", response.Content.Headers.ContentDisposition?.FileNameStar);
        using var zip = new ZipArchive(await response.Content.ReadAsStreamAsync());
        var files = Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(files, zip.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal));
        foreach (var entry in zip.Entries)
        {
            using var content = new MemoryStream();
            await using (var stream = entry.Open())
            {
                await stream.CopyToAsync(content);
            }
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir, entry.FullName)), content.ToArray());
        }
        using var unknown = await client.GetAsync(new Uri("/console/calls/call_never_seen/fixture.zip", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task The_download_needs_operator_access()
    {
        var (callId, _) = await RecordCallAsync();
        await using var guarded = await Hosts.StartAsync(app.ConnectionString, new Dictionary<string, string?>
        {
            ["Dashboard:AllowLocalWithoutCredentials"] = "false", ["Dashboard:Username"] = "ops", ["Dashboard:Password"] = "ops-pass-123456",
        });
        using var client = guarded.CreateClient();

        using var anonymous = await client.GetAsync(new Uri($"/console/calls/{callId}/fixture.zip", UriKind.Relative));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/console/calls/{callId}/fixture.zip");
        request.Headers.Authorization = ReceiverFactory.BasicHeader("ops", "ops-pass-123456");
        using var granted = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
    }

    [Theory]
    [InlineData("fixtures", "replay")]                                                    // no folder
    [InlineData("fixtures", "replay", "dir", "--secret", "whsec_AAAA")]                   // no URL
    [InlineData("fixtures", "replay", "dir", "--url", "http://127.0.0.1:1")]              // neither secret nor Basic
    [InlineData("fixtures", "replay", "dir", "--url", "ftp://x", "--basic", "a:b")]
    [InlineData("fixtures", "replay", "dir", "--url", "http://ops:pw@x", "--basic", "a:b")]        // credentials in the URL
    [InlineData("fixtures", "replay", "dir", "--url", "http://x", "--basic", "a:b", "--seed", "1")] // seed without shuffle
    [InlineData("fixtures", "replay", "dir", "--url", "http://x", "--secret", "not base64!")]
    [InlineData("fixtures", "export", "--call")]
    [InlineData("fixtures", "export", "--call", "call_1")]                                // no --out
    [InlineData("fixtures", "bogus")]
    public async Task Bad_usage_exits_2_with_the_usage(params string[] args)
    {
        var (output, errors) = (new StringWriter(), new StringWriter());

        var exit = await FixtureTool.RunAsync(args, output, errors);

        Assert.Equal(2, exit);
        Assert.Contains("usage:", errors.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_refuses_an_unknown_call_and_a_folder_that_is_not_empty()
    {
        var unknown = await ExportAsync("call_never_seen_" + Guid.NewGuid().ToString("N")[..8], Path.Combine(_dir, "unknown"));
        Directory.CreateDirectory(Path.Combine(_dir, "full"));
        File.WriteAllText(Path.Combine(_dir, "full", "001-other.json"), "{}");
        var full = await ExportAsync("call_x", Path.Combine(_dir, "full"));
        var notFixture = await ReplayAsync(_dir, "--url", "http://127.0.0.1:1", "--basic", "a:b");

        Assert.Equal(1, unknown.Exit);
        Assert.Contains("no call with ID 'call_never_seen_", unknown.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "unknown")));
        Assert.Equal(2, full.Exit);
        Assert.Contains("is not empty", full.Output, StringComparison.Ordinal);
        Assert.Equal(2, notFixture.Exit);
        Assert.Contains("is not a fixture folder (no expected.json)", notFixture.Errors, StringComparison.Ordinal);
    }

    /// <summary>
    /// A call on the source instance: five events, one arriving before an older one (so the source has an
    /// out-of-order flag the fixture must not depend on), bodies with their own spacing and a non-ASCII value.
    /// </summary>
    private async Task<(string CallId, List<byte[]> Sent)> RecordCallAsync()
    {
        var callId = MiniVoiceEvents.NewCallId();
        string[] bodies =
        [
            MiniVoiceEvents.Event(callId, "call.ringing", "ringing", T0),
            MiniVoiceEvents.Event(callId, "call.completed", "completed", T0.AddSeconds(90), data: new { duration_seconds = 85 }) + "\n",
            MiniVoiceEvents.Event(callId, "call.answered", "in-progress", T0.AddSeconds(5), variables: new { order = "B2", name = "Zoë" })
                .Replace(",", ", ", StringComparison.Ordinal).Replace("\\u00EB", "ë", StringComparison.Ordinal),
            MiniVoiceEvents.Event(callId, "call.recording", null, T0.AddSeconds(95),
                data: new { recording = new { url = "https://media.example/rec_1.mp3", duration_seconds = 85 } }),
            MiniVoiceEvents.Event(callId, "call.ai_result", null, T0.AddSeconds(96), data: new { ai_result = new { score = 0.93 } }),
        ];
        var sent = new List<byte[]>();
        foreach (var text in bodies)
        {
            var body = Encoding.UTF8.GetBytes(text);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/minivoice") { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.TryAddWithoutValidation("User-Agent", "MiniVoice-Webhooks/2.1");
            if (sent.Count == bodies.Length - 1)
            {
                // The last with HTTP Basic: no webhook-id to keep (--keep-ids derives one from the body).
                request.Headers.Authorization = ReceiverFactory.BasicHeader(ReceiverFactory.BasicUser, ReceiverFactory.BasicPassword);
            }
            else
            {
                var id = "msg_" + Guid.NewGuid().ToString("N");
                var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                request.Headers.Add("webhook-id", id);
                request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
                request.Headers.Add("webhook-signature", StandardWebhookSigner.Sign(app.Secret, id, timestamp, body));
            }
            using var client = app.CreateClient();
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            sent.Add(body);
        }
        Assert.Equal(1, await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM webhook_events WHERE call_id = $1 AND out_of_order", callId));
        return (callId, sent);
    }

    /// <summary>`fixtures export` as the app itself, on the source instance's database.</summary>
    private Task<(int Exit, string Output)> ExportAsync(string callId, string dir) => AppProcess.RunToExitAsync(
        new Dictionary<string, string?> { ["ConnectionStrings__Postgres"] = app.ConnectionString },
        "fixtures", "export", "--call", callId, "--out", dir);

    private static async Task<(int Exit, string Output, string Errors)> ReplayAsync(params string[] args)
    {
        var (output, errors) = (new StringWriter(), new StringWriter());
        var exit = await FixtureTool.RunAsync(["fixtures", "replay", .. args], output, errors);
        return (exit, output.ToString(), errors.ToString());
    }

    private static string[] BodyFiles(string dir) => Directory.GetFiles(dir, "*.json")
        .Where(f => !f.EndsWith(".headers.json", StringComparison.Ordinal) && Path.GetFileName(f) != "expected.json")
        .Order(StringComparer.Ordinal).ToArray();

    /// <summary>A new instance as its own process on a database of its own, requiring operator credentials.</summary>
    private static async Task<FreshInstance> FreshInstanceAsync()
    {
        var database = await PostgresServer.CreateDatabaseAsync("wr_fixture_replay");
        var secret = StandardWebhookSigner.NewSecret();
        var process = await AppProcess.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings__Postgres"] = database,
            ["Webhooks__SigningSecrets__0"] = secret,
            ["Webhooks__BasicAuth__Username"] = ReceiverFactory.BasicUser,
            ["Webhooks__BasicAuth__Password"] = ReceiverFactory.BasicPassword,
        });
        return new FreshInstance(process, database, secret);
    }

    private sealed class FreshInstance(AppProcess process, string database, string secret) : IAsyncDisposable
    {
        public string Url => process.BaseAddress.ToString().TrimEnd('/');
        public string Secret => secret;
        public static string Operator => $"{AppProcess.OperatorUser}:{AppProcess.OperatorPassword}";

        public async ValueTask DisposeAsync()
        {
            await process.DisposeAsync();
            await PostgresServer.DropDatabaseAsync(database);
        }
    }
}
