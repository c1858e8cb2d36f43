using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Reliability;

/// <summary>
/// Constant-time credential checks (asserted on the source: timing tests are too noisy to trust), replay
/// protection by the signature timestamp, and no secret of any integration in the logs.
/// </summary>
[Collection(ReceiverCollection.Name)]
public sealed partial class SecurityTests(ReceiverFactory app)
{
    private const int ToleranceSeconds = 300; // Webhooks:TimestampToleranceSeconds default, not overridden by the fixture

    // ---- Constant-time comparisons (structural) ------------------------------------------------------------------------

    [Theory]
    [InlineData("src/WebhookReceiver/Webhooks/StandardWebhookVerifier.cs", 1)]
    [InlineData("src/WebhookReceiver/Webhooks/BasicCredentials.cs", 2)]
    public void Credential_checks_compare_with_FixedTimeEquals_and_never_with_equality_operators(string path, int fixedTimeComparisons)
    {
        var code = Code(File.ReadAllText(Path.Combine(RepositoryRoot(), path)));

        Assert.True(Regex.Count(code, @"CryptographicOperations\s*\.\s*FixedTimeEquals\s*\(") >= fixedTimeComparisons,
            $"{path} must compare with CryptographicOperations.FixedTimeEquals ({fixedTimeComparisons}×)");
        Assert.Empty(VariableTimeComparisons(code));
    }

    [Fact]
    public void Operator_and_dashboard_credentials_go_through_the_constant_time_BasicCredentials()
    {
        var code = Code(File.ReadAllText(Path.Combine(RepositoryRoot(), "src/WebhookReceiver/Operators/OperatorAccess.cs")));

        Assert.Contains("new BasicCredentials(", code, StringComparison.Ordinal);
        Assert.Empty(VariableTimeComparisons(code));
    }

    [Theory]
    [InlineData("if (signature == expected) return true;")]
    [InlineData("return candidate != computedSignature;")]
    [InlineData("var ok = string.Equals(password, _password, StringComparison.Ordinal);")]
    [InlineData("var ok = provided.Equals(secret);")]
    [InlineData("return hash.SequenceEqual(_pass);")]
    [InlineData("return decoded[(colon + 1)..] == _password;")]
    [InlineData("return expected.SequenceEqual(candidate.ToArray());")]
    public void The_structural_check_itself_catches_variable_time_comparisons(string snippet)
    {
        Assert.NotEmpty(VariableTimeComparisons(Code(snippet)));
    }

    [Theory]
    [InlineData("if (Convert.TryFromBase64String(part[3..], candidate, out var written) && written == expected.Length)")]
    [InlineData("if (!string.Equals(header.Scheme, \"Basic\", StringComparison.OrdinalIgnoreCase) || header.Parameter is null)")]
    [InlineData("if (colon < 0) return false; if (_keys.Length == 0) return false;")]
    public void The_structural_check_allows_length_scheme_and_null_checks(string snippet)
    {
        Assert.Empty(VariableTimeComparisons(Code(snippet)));
    }

    // ---- Replays ----------------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task A_captured_request_replayed_outside_the_timestamp_tolerance_is_refused_and_stores_nothing()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var body = Encoding.UTF8.GetBytes(MiniVoiceEvents.Event(callId, "call.completed", "completed", DateTimeOffset.UtcNow));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        // Signed (captured) ToleranceSeconds + 15 s ago, replayed now byte for byte; and the same pre-signed for the future.
        using var stale = await app.PostSignedAsync(body, "msg_replay_" + callId, timestamp: now - ToleranceSeconds - 15);
        using var future = await app.PostSignedAsync(body, "msg_replay_" + callId, timestamp: now + ToleranceSeconds + 15);
        using var staleRotated = await app.PostSignedAsync(body, "msg_replay_" + callId, app.RotatedSecret, now - ToleranceSeconds - 15);

        foreach (var response in new[] { stale, future, staleRotated })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.False((await response.JsonAsync()).TryGetProperty("detail", out _), "a 401 must not say which check failed");
        }
        Assert.Equal(0, await Db.RowsMentioningAsync(app.ConnectionString, callId));
        Assert.Contains(app.Logs.Events, e => e.Properties.TryGetValue("Reason", out var reason)
                                             && reason.ToString().Trim('"') == "timestamp_outside_tolerance");
    }

    [Fact]
    public async Task Inside_the_tolerance_a_replay_is_a_duplicate_and_a_captured_signature_cannot_be_restamped()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var body = Encoding.UTF8.GetBytes(MiniVoiceEvents.Event(callId, "call.completed", "completed", DateTimeOffset.UtcNow));
        var webhookId = "msg_replay_" + callId;
        var capturedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - ToleranceSeconds + 30;
        var capturedSignature = StandardWebhookSigner.Sign(app.Secret, webhookId, capturedAt, body);

        using var original = await app.PostSignedAsync(body, webhookId, timestamp: capturedAt);
        using var replay = await app.PostSignedAsync(body, webhookId, timestamp: capturedAt);
        using var restamped = await SendAsync(body, webhookId, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), capturedSignature);

        Assert.Equal(HttpStatusCode.Accepted, original.StatusCode);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal("duplicate", (await replay.JsonAsync()).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, restamped.StatusCode);
        Assert.Equal(1, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM webhook_events WHERE call_id = $1", callId));
    }

    // ---- Secrets in logs ----------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task No_secret_token_key_or_password_reaches_the_logs_after_good_and_bad_traffic_and_background_work()
    {
        const string WrongPassword = "wrong-pass-7c1d9e";
        var completed = MiniVoiceEvents.NewCallId();
        var busy = MiniVoiceEvents.NewCallId();
        // CRM: one failure before success, so the retry path logs too.
        app.Crm.Script(completed, new StubReply(500, Body: "{\"error\":\"boom\"}"));

        // Good: primary secret, rotated secret, Basic; each leaves work for the CRM or the ticket system.
        await AcceptedAsync(app.PostSignedAsync(MiniVoiceEvents.Event(completed, "call.completed", "completed", DateTimeOffset.UtcNow)));
        await AcceptedAsync(app.PostSignedAsync(MiniVoiceEvents.Event(busy, "call.busy", "busy", DateTimeOffset.UtcNow), secret: app.RotatedSecret));
        await AcceptedAsync(app.PostBasicAsync(MiniVoiceEvents.Event(busy, "call.recording", "busy", DateTimeOffset.UtcNow.AddSeconds(1))));
        // Bad: wrong password, forged and stale signatures, a quarantined body sent with Basic credentials.
        using var client = app.CreateClient();
        using (var wrongBasic = new HttpRequestMessage(HttpMethod.Post, "/webhooks/minivoice"))
        {
            wrongBasic.Content = JsonContent.Create(JsonNode.Parse(MiniVoiceEvents.Event(completed, "call.completed", "completed", DateTimeOffset.UtcNow)));
            wrongBasic.Headers.Authorization = ReceiverFactory.BasicHeader(ReceiverFactory.BasicUser, WrongPassword);
            using var refused = await client.SendAsync(wrongBasic);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        using (var forged = await app.PostSignedAsync("{}", secret: StandardWebhookSigner.NewSecret())) { Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode); }
        using (var stale = await app.PostSignedAsync("{}", timestamp: 1)) { Assert.Equal(HttpStatusCode.Unauthorized, stale.StatusCode); }
        long quarantineId;
        using (var invalid = await app.PostBasicAsync("{\"event\":\"x\",\"call\":{\"id\":\"" + busy + "\",\"from\":\"nope\"}}"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
            quarantineId = (await invalid.JsonAsync()).GetProperty("quarantine_id").GetInt64();
        }
        // POST /calls: MiniVoice accepts once, then refuses the key (its error body is logged).
        app.MiniVoice.ScriptNext(
            new StubReply(201, Body: File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "create-call.response.json"))
                .Replace("call_123", MiniVoiceEvents.NewCallId(), StringComparison.Ordinal)),
            new StubReply(401, Body: """{"error":{"code":"invalid_api_key","message":"bad key"}}"""));
        var ask = new { from = "+15551230001", to = "+15551230002" };
        using (var created = await client.PostAsJsonAsync(new Uri("/calls", UriKind.Relative), ask)) { Assert.Equal(HttpStatusCode.Created, created.StatusCode); }
        using (var refused = await client.PostAsJsonAsync(new Uri("/calls", UriKind.Relative), ask)) { Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode); }
        await Eventually.WaitAsync(async () =>
            await Actions.CountAsync(app.ConnectionString, completed, "crm.sync", "succeeded") == 1
            && await Actions.CountAsync(app.ConnectionString, busy, "ticket.create", "succeeded") == 1
            && await Actions.CountAsync(app.ConnectionString, busy, "crm.sync", "succeeded") == 2,
            TimeSpan.FromSeconds(30), "the CRM sync (after one retry) and the ticket to succeed");

        var logs = app.Logs.AsJsonLines();

        Assert.Contains(completed, logs, StringComparison.Ordinal); // the background work did log
        var secrets = new Dictionary<string, string>
        {
            ["signing secret"] = app.Secret,
            ["signing key (base64)"] = app.Secret["whsec_".Length..],
            ["rotated secret"] = app.RotatedSecret,
            ["rotated key (base64)"] = app.RotatedSecret["whsec_".Length..],
            ["Basic password"] = ReceiverFactory.BasicPassword,
            ["Basic header"] = ReceiverFactory.BasicHeader(ReceiverFactory.BasicUser, ReceiverFactory.BasicPassword).Parameter!,
            ["wrong password"] = WrongPassword,
            ["wrong Basic header"] = ReceiverFactory.BasicHeader(ReceiverFactory.BasicUser, WrongPassword).Parameter!,
            ["CRM token"] = ReceiverFactory.CrmToken,
            ["tickets token"] = ReceiverFactory.TicketsToken,
            ["MiniVoice key"] = ReceiverFactory.MiniVoiceKey,
        };
        foreach (var (what, secret) in secrets)
        {
            Assert.False(logs.Contains(secret, StringComparison.Ordinal), $"the {what} appears in the logs");
        }
        Assert.Equal(0, await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM quarantined_webhooks WHERE id = $1 AND (headers ? 'authorization' OR headers::text ILIKE '%basic %')", quarantineId));
    }

    private static async Task AcceptedAsync(Task<HttpResponseMessage> sending)
    {
        using var response = await sending;
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private async Task<HttpResponseMessage> SendAsync(byte[] body, string webhookId, long timestamp, string signature)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/minivoice") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add("webhook-id", webhookId);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", signature);
        using var client = app.CreateClient();
        return await client.SendAsync(request);
    }

    // ---- Source inspection -----------------------------------------------------------------------------------------------------

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "WebhookReceiver.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no WebhookReceiver.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>The code without comments and with string literals emptied, so neither can hide or fake a comparison.</summary>
    internal static string Code(string source)
    {
        var noComments = CommentPattern().Replace(source, m => m.Value.StartsWith('"') ? m.Value : " ");
        return StringPattern().Replace(noComments, "\"\"");
    }

    /// <summary>
    /// Comparisons whose running time depends on the data and that touch a credential-like value: ==, != (except
    /// against null or a length), Equals, SequenceEqual, Compare. Identifiers count as credential-like by name.
    /// </summary>
    internal static List<string> VariableTimeComparisons(string code)
    {
        var found = new List<string>();
        foreach (Match m in EqualityPattern().Matches(code))
        {
            var (left, right) = (m.Groups["left"].Value, m.Groups["right"].Value);
            if (new[] { left, right }.Select(o => o.Trim('(', ')')).Any(o => o is "null" or "default" || LengthPattern().IsMatch(o)))
            {
                continue;
            }
            if (Sensitive(left) || Sensitive(right))
            {
                found.Add(m.Value.Trim());
            }
        }
        foreach (Match m in CallPattern().Matches(code))
        {
            if (Sensitive(m.Value))
            {
                found.Add(m.Value.Trim());
            }
        }
        return found;
    }

    private static bool Sensitive(string text) => SensitivePattern().IsMatch(text);

    [GeneratedRegex("""//[^\n]*|/\*.*?\*/|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)'""", RegexOptions.Singleline)]
    private static partial Regex CommentPattern();

    [GeneratedRegex("""@?"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)'""")]
    private static partial Regex StringPattern();

    [GeneratedRegex(@"(?<left>[\w\.\[\]\(\)]+)\s*(?:==|!=)\s*(?<right>[\w\.\[\]\(\)]+)")]
    private static partial Regex EqualityPattern();

    [GeneratedRegex(@"(?:\.Length|\.Count|\.Count\(\)|\b\d+)$")]
    private static partial Regex LengthPattern();

    [GeneratedRegex(@"(?:\b(?:string|String)\s*\.\s*(?:Equals|Compare|CompareOrdinal)|\.\s*(?:Equals|SequenceEqual|CompareTo|SequenceCompareTo))\s*\([^;]*")]
    private static partial Regex CallPattern();

    [GeneratedRegex("signature|candidate|expected|secret|password|_pass|_user|decoded|hash|hmac|mac\\b|key|token|provided", RegexOptions.IgnoreCase)]
    private static partial Regex SensitivePattern();
}
