using System.Diagnostics;

using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Reliability;

/// <summary>
/// A PostgreSQL server of the test's own (scripts/pg-local.sh), on a pinned port so it can be stopped under
/// load and started again where the service expects it. Needs PostgreSQL's binaries on this machine
/// (.ci/run installs them); without them the test fails saying so.
/// </summary>
internal sealed class ThrowawayPostgres : IAsyncDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "wr-outage-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly int _port = Ports.Free();

    public string ConnectionString => $"Host=127.0.0.1;Port={_port};Username=postgres;Password=postgres;Database=postgres;Timeout=3";

    public Task StartAsync() => RunAsync("start");

    public Task StopAsync() => RunAsync("stop");

    private async Task RunAsync(string verb)
    {
        var script = Path.Combine(SecurityTests.RepositoryRoot(), "scripts", "pg-local.sh");
        var start = new ProcessStartInfo("bash", [script, verb, _dir]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["PG_LOCAL_PORT"] = _port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0,
            $"scripts/pg-local.sh {verb} failed ({process.ExitCode}); this test needs PostgreSQL's binaries (apt-get install postgresql): {await output} {await errors}");
    }

    public async ValueTask DisposeAsync()
    {
        await RunAsync("stop");
        Directory.Delete(_dir, recursive: true);
    }
}
