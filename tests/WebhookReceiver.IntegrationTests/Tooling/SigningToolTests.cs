using System.Diagnostics;
using WebhookReceiver.IntegrationTests.Infrastructure;
using WebhookReceiver.Tooling;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.IntegrationTests.Tooling;

/// <summary>`sign` and `send` against the service's own verifier and a real running instance.</summary>
[Collection(ReceiverCollection.Name)]
public sealed class SigningToolTests(ReceiverFactory app) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wr-sign-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Sign_prints_headers_the_services_verifier_accepts_and_a_curl_command_that_sends_them()
    {
        var file = Fixture(MiniVoiceEvents.NewCallId());

        var (exit, output, _) = await Run("sign", "--secret", app.RotatedSecret, file);

        Assert.Equal(0, exit);
        var headers = Headers(output);
        var verifier = new StandardWebhookVerifier([app.Secret, app.RotatedSecret], TimeSpan.FromMinutes(5), TimeProvider.System);
        var result = verifier.Verify(headers["webhook-id"], headers["webhook-timestamp"], headers["webhook-signature"], File.ReadAllBytes(file), out var matched);
        Assert.Equal(SignatureResult.Valid, result);
        Assert.Equal(1, matched);
        var curl = Assert.Single(output.Split('\n'), l => l.StartsWith("curl ", StringComparison.Ordinal));
        Assert.Contains($"'webhook-signature: {headers["webhook-signature"]}'", curl, StringComparison.Ordinal);
        Assert.Contains($"'webhook-id: {headers["webhook-id"]}'", curl, StringComparison.Ordinal);
        Assert.Contains($"--data-binary '@{file}'", curl, StringComparison.Ordinal);
        Assert.Contains(SigningTool.DefaultUrl, curl, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_makes_a_fresh_webhook_id_per_run_unless_one_is_given()
    {
        var file = Fixture(MiniVoiceEvents.NewCallId());

        var first = Headers((await Run("sign", "--secret", app.Secret, file)).Output);
        var second = Headers((await Run("sign", "--secret", app.Secret, file)).Output);
        var fixedId = Headers((await Run("sign", "--secret", app.Secret, "--id", "msg_fixed", "--timestamp", "1614265330", file)).Output);

        Assert.NotEqual(first["webhook-id"], second["webhook-id"]);
        Assert.StartsWith("msg_", first["webhook-id"], StringComparison.Ordinal);
        Assert.Equal("msg_fixed", fixedId["webhook-id"]);
        Assert.Equal("1614265330", fixedId["webhook-timestamp"]);
    }

    [Fact]
    public async Task Send_posts_the_file_signed_to_a_running_instance_and_the_same_id_again_is_a_duplicate()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var file = Fixture(callId);
        var id = "msg_" + Guid.NewGuid().ToString("N");

        var first = await Run("send", "--url", Url(), "--secret", app.Secret, "--id", id, file);
        var again = await Run("send", "--url", Url(), "--secret", app.Secret, "--id", id, file);

        Assert.Equal(0, first.Exit);
        Assert.StartsWith("202 ", first.Output, StringComparison.Ordinal);
        Assert.Contains("\"accepted\"", first.Output, StringComparison.Ordinal);
        Assert.Equal(0, again.Exit);
        Assert.StartsWith("200 ", again.Output, StringComparison.Ordinal);
        Assert.Contains("\"duplicate\"", again.Output, StringComparison.Ordinal);
        Assert.Equal(1, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM webhook_events WHERE call_id = $1", callId));
    }

    [Fact]
    public async Task Send_with_Basic_credentials_is_accepted_and_a_refusal_exits_non_zero_with_the_answer()
    {
        var file = Fixture(MiniVoiceEvents.NewCallId());

        var basic = await Run("send", "--url", Url(), "--basic", $"{ReceiverFactory.BasicUser}:{ReceiverFactory.BasicPassword}", file);
        var wrong = await Run("send", "--url", Url(), "--secret", StandardWebhookSigner.NewSecret(), file);

        Assert.Equal(0, basic.Exit);
        Assert.StartsWith("202 ", basic.Output, StringComparison.Ordinal);
        Assert.Equal(1, wrong.Exit);
        Assert.StartsWith("401 ", wrong.Output, StringComparison.Ordinal);
        Assert.Contains("Unauthorized", wrong.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sign", "file.json")]                       // no secret
    [InlineData("send", "--secret", "whsec_AAAA", "f.json")] // no URL
    [InlineData("sign", "--secret", "not base64!", "f.json")]
    [InlineData("sign", "--secret", "whsec_AAAA", "--bogus", "x", "f.json")]
    public async Task Bad_usage_exits_2_with_the_usage(params string[] args)
    {
        var (exit, _, errors) = await Run(args);

        Assert.Equal(2, exit);
        Assert.Contains("usage:", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_commands_run_as_the_app_itself_without_a_database_or_configuration()
    {
        var file = Fixture(MiniVoiceEvents.NewCallId());
        var start = new ProcessStartInfo("dotnet", ["WebhookReceiver.dll", "sign", "--secret", app.Secret, file])
        {
            WorkingDirectory = AppProcess.AppDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment.Remove("ConnectionStrings__Postgres");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(process.ExitCode == 0, $"sign exited {process.ExitCode}: {await output} {await errors}");
        Assert.True(Headers(await output).ContainsKey("webhook-signature"));
    }

    private string Fixture(string callId)
    {
        var path = Path.Combine(_dir, callId + ".json");
        // A trailing newline on purpose: the signed bytes are the file's bytes, newline included.
        File.WriteAllText(path, MiniVoiceEvents.FromFixture("webhook.call-ringing.json", callId) + "\n");
        return path;
    }

    private string Url()
    {
        using var client = app.CreateClient();
        return new Uri(client.BaseAddress!, "/webhooks/minivoice").ToString();
    }

    private static async Task<(int Exit, string Output, string Errors)> Run(params string[] args)
    {
        var (output, errors) = (new StringWriter(), new StringWriter());
        var exit = await SigningTool.RunAsync(args, output, errors);
        return (exit, output.ToString(), errors.ToString());
    }

    internal static Dictionary<string, string> Headers(string output) => output.Split('\n')
        .Where(l => l.StartsWith("webhook-", StringComparison.Ordinal))
        .Select(l => l.TrimEnd('\r').Split(": ", 2))
        .ToDictionary(p => p[0], p => p[1]);
}
