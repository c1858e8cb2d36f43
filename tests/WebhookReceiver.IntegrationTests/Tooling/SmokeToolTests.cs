using System.Diagnostics;
using WebhookReceiver.IntegrationTests.Infrastructure;
using WebhookReceiver.Tooling;

namespace WebhookReceiver.IntegrationTests.Tooling;

/// <summary>
/// `smoke` (README "Smoke test after a deploy") against real running instances: the published app as its own process
/// with the CRM and ticket stubs, the command itself run as the app's own process too; and an in-process host on a real
/// port whose ticket system refuses every ticket.
/// </summary>
public sealed class SmokeToolTests
{
    private static readonly string[] Steps = ["completed call", "caller hangup", "busy", "no-answer", "invalid body", "redelivery"];

    [Fact]
    public async Task Against_a_deployed_process_every_step_passes_with_its_line_and_time_and_the_exit_code_is_0()
    {
        await using var crm = new IntegrationStub();
        await using var tickets = new IntegrationStub();
        await crm.StartAsync();
        await tickets.StartAsync();
        var secret = StandardWebhookSigner.NewSecret();
        await Hosts.WithDatabaseAsync("wr_smoke", async database =>
        {
            await using var app = await AppProcess.StartAsync(new Dictionary<string, string?>
            {
                ["ConnectionStrings__Postgres"] = database,
                ["Webhooks__SigningSecrets__0"] = secret,
                ["Crm__BaseUrl"] = crm.BaseUrl,
                ["Tickets__BaseUrl"] = tickets.BaseUrl,
            });

            // As an operator runs it: the secret from $WEBHOOK_SECRET, not the command line.
            var (exit, output) = await RunAppAsync(new Dictionary<string, string?> { ["WEBHOOK_SECRET"] = secret },
                "smoke", "--url", app.BaseAddress.ToString(), "--operator", $"{AppProcess.OperatorUser}:{AppProcess.OperatorPassword}");

            Assert.True(exit == 0, $"smoke exited {exit}:\n{output}");
            var lines = StepLines(output);
            Assert.Equal(Steps, lines.Select(l => l.Step));
            Assert.All(lines, l => Assert.Equal("ok", l.Result));
            Assert.All(lines, l => Assert.Matches(@"   \d+\.\d\d s$", l.Line));
            Assert.Matches(@"ok   completed call +call_smoke_\S+_completed 202 → completed, crm\.sync succeeded   \d+\.\d\d s",
                lines[0].Line);
            Assert.Contains("→ completed by caller, crm.sync succeeded", lines[1].Line, StringComparison.Ordinal);
            Assert.Contains("202 → busy, crm.sync succeeded, ticket.create succeeded", lines[2].Line, StringComparison.Ordinal);
            Assert.Contains("202 → no-answer, crm.sync succeeded, ticket.create succeeded", lines[3].Line, StringComparison.Ordinal);
            Assert.Matches(@"400, quarantined as \d+ \(.*call\.direction.*\); no call record", lines[4].Line);
            Assert.Contains("200 duplicate (msg_", lines[5].Line, StringComparison.Ordinal);
            Assert.Contains("still 1 crm.sync", lines[5].Line, StringComparison.Ordinal);
            Assert.Matches(@"smoke passed: 6 of 6 steps in \d+\.\d\d s", output);

            // What the lines claim, checked at the source: the work reached the stubs, once per call.
            var callIds = lines.Take(4).Select(l => l.CallId).ToList();
            Assert.All(callIds, id => Assert.Single(crm.For(id)));
            Assert.Single(tickets.For(callIds[2]));
            Assert.Single(tickets.For(callIds[3]));
            Assert.Empty(tickets.For(callIds[0]));
            Assert.Equal(1, await Db.CountAsync(database, "SELECT count(*) FROM quarantined_webhooks"));
            Assert.Equal(0, await Db.CountAsync(database, "SELECT count(*) FROM calls WHERE id = $1", lines[4].CallId));

            // Without operator credentials the calls cannot be read back: every read-back step says so, none crashes the run.
            var (refused, refusedOutput) = await RunAppAsync(new Dictionary<string, string?> { ["WEBHOOK_SECRET"] = secret },
                "smoke", "--url", app.BaseAddress.ToString(), "--timeout", "5");
            Assert.True(refused == 1, $"smoke exited {refused}:\n{refusedOutput}");
            var refusedLines = StepLines(refusedOutput);
            Assert.Equal(Steps, refusedLines.Select(l => l.Step));
            Assert.All(refusedLines, l => Assert.Equal("FAIL", l.Result));
            Assert.All(refusedLines, l => Assert.Contains("GET /calls answered 401: check --operator", l.Line, StringComparison.Ordinal));
        });
    }

    [Fact]
    public async Task A_ticket_system_that_refuses_tickets_fails_the_failure_steps_by_name_and_exits_1()
    {
        await using var app = await Hosts.StartAsync(null, new Dictionary<string, string?>());
        app.Tickets.DefaultReply = new StubReply(400, Body: """{"error":"project closed"}""");
        using var client = app.CreateClient();

        // HTTP Basic instead of a signature; operator reads as a local operator (this host allows them).
        var output = new StringWriter();
        var exit = await SmokeTool.RunAsync(
            ["smoke", "--url", client.BaseAddress!.ToString(), "--basic", $"{ReceiverFactory.BasicUser}:{ReceiverFactory.BasicPassword}",
             "--timeout", "30"], output, TextWriter.Null);

        Assert.True(exit == 1, $"smoke exited {exit}:\n{output}");
        var lines = StepLines(output.ToString());
        Assert.Equal(Steps, lines.Select(l => l.Step));
        Assert.Equal(["ok", "ok", "FAIL", "FAIL", "ok", "ok"], lines.Select(l => l.Result));
        Assert.Contains("→ busy, ticket.create failed: ", lines[2].Line, StringComparison.Ordinal);
        Assert.Contains("400", lines[2].Line, StringComparison.Ordinal);
        Assert.Contains("→ no-answer, ticket.create failed: ", lines[3].Line, StringComparison.Ordinal);
        Assert.Contains("200 duplicate, still 1 crm.sync", lines[5].Line, StringComparison.Ordinal);
        Assert.Matches(@"smoke FAILED: 2 of 6 steps \(busy, no-answer\) in \d+\.\d\d s", output.ToString());
    }

    [Fact]
    public async Task An_instance_that_is_not_there_fails_every_step_and_exits_1()
    {
        var output = new StringWriter();
        var exit = await SmokeTool.RunAsync(
            ["smoke", "--url", $"http://127.0.0.1:{Ports.Free()}", "--secret", StandardWebhookSigner.NewSecret()], output, TextWriter.Null);

        Assert.Equal(1, exit);
        Assert.All(StepLines(output.ToString()), l => Assert.Equal("FAIL", l.Result));
        Assert.Contains("smoke FAILED: 6 of 6 steps", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("smoke")]                                                       // no URL
    [InlineData("smoke", "--url", "http://127.0.0.1:1")]                        // no secret, no Basic
    [InlineData("smoke", "--url", "ftp://x", "--basic", "a:b")]
    [InlineData("smoke", "--url", "http://127.0.0.1:1", "--secret", "not base64!")]
    [InlineData("smoke", "--url", "http://127.0.0.1:1", "--basic", "a:b", "--operator", "nocolon")]
    [InlineData("smoke", "--url", "http://127.0.0.1:1", "--basic", "a:b", "--timeout", "soon")]
    [InlineData("smoke", "--url", "http://127.0.0.1:1", "--basic", "a:b", "--bogus", "x")]
    public async Task Bad_usage_exits_2_with_the_usage(params string[] args)
    {
        var errors = new StringWriter();
        var exit = await SmokeTool.RunAsync(args, TextWriter.Null, errors);

        Assert.Equal(2, exit);
        Assert.Contains("usage:", errors.ToString(), StringComparison.Ordinal);
    }

    private sealed record StepLine(string Result, string Step, string CallId, string Line);

    /// <summary>The step lines: "ok   NAME   CALL_ID DETAIL   0.41 s" or "FAIL NAME   CALL_ID MESSAGE   1.02 s".</summary>
    private static List<StepLine> StepLines(string output) => output.Split('\n')
        .Select(l => l.TrimEnd('\r'))
        .Where(l => l.StartsWith("ok   ", StringComparison.Ordinal) || l.StartsWith("FAIL ", StringComparison.Ordinal))
        .Select(l =>
        {
            var step = Steps.Single(s => l[5..].StartsWith(s + " ", StringComparison.Ordinal));
            var rest = l[(5 + step.Length)..].TrimStart();
            return new StepLine(l[..4].Trim(), step, rest.Split(' ')[0], l);
        })
        .ToList();

    /// <summary>`dotnet WebhookReceiver.dll ARGS` from the published app, as an operator runs it.</summary>
    private static async Task<(int Exit, string Output)> RunAppAsync(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", ["WebhookReceiver.dll", .. args])
        {
            WorkingDirectory = AppProcess.AppDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        return (process.ExitCode, await output + await errors);
    }
}
