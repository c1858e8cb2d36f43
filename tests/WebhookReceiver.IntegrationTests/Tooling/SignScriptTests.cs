using System.Diagnostics;
using WebhookReceiver.IntegrationTests.Infrastructure;
using WebhookReceiver.IntegrationTests.Reliability;
using WebhookReceiver.Webhooks;
using Xunit.Abstractions;

namespace WebhookReceiver.IntegrationTests.Tooling;

/// <summary>scripts/sign.sh builds the signing tool once per version of the sources and then runs that build.</summary>
public sealed class SignScriptTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _cache = Directory.CreateTempSubdirectory("wr-sign-cache-").FullName;
    private readonly string _dir = Directory.CreateTempSubdirectory("wr-sign-body-").FullName;
    private readonly string _secret = StandardWebhookSigner.NewSecret();

    public void Dispose()
    {
        Directory.Delete(_cache, recursive: true);
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task The_second_call_runs_the_build_the_first_call_made_without_building_again()
    {
        var file = Path.Combine(_dir, "body.json");
        await File.WriteAllTextAsync(file, MiniVoiceEvents.FromFixture("webhook.call-ringing.json", MiniVoiceEvents.NewCallId()));

        var first = await Run(file);
        var build = Assert.Single(Directory.GetDirectories(_cache));
        var builtAt = File.GetLastWriteTimeUtc(Path.Combine(build, "WebhookReceiver.dll"));
        var second = await Run(file);

        log.WriteLine($"sign.sh: first call {first.Elapsed.TotalSeconds:0.00} s (builds), second {second.Elapsed.TotalSeconds:0.00} s");
        Assert.Equal([build], Directory.GetDirectories(_cache));
        Assert.Equal(builtAt, File.GetLastWriteTimeUtc(Path.Combine(build, "WebhookReceiver.dll")));
        Assert.DoesNotContain("building", second.Errors, StringComparison.Ordinal);
        foreach (var call in new[] { first, second })
        {
            Assert.True(call.Exit == 0, $"sign.sh exited {call.Exit}: {call.Output} {call.Errors}");
            var headers = SigningToolTests.Headers(call.Output);
            var verifier = new StandardWebhookVerifier([_secret], TimeSpan.FromMinutes(5), TimeProvider.System);
            Assert.Equal(SignatureResult.Valid, verifier.Verify(headers["webhook-id"], headers["webhook-timestamp"],
                headers["webhook-signature"], await File.ReadAllBytesAsync(file), out _));
        }
    }

    private async Task<(int Exit, string Output, string Errors, TimeSpan Elapsed)> Run(string file)
    {
        var script = Path.Combine(SecurityTests.RepositoryRoot(), "scripts", "sign.sh");
        var start = new ProcessStartInfo("bash", [script, "--secret", _secret, file])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["WEBHOOKRECEIVER_SIGN_CACHE"] = _cache;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        return (process.ExitCode, await output, await errors, clock.Elapsed);
    }
}
