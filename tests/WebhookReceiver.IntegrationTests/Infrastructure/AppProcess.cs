using System.Collections.Concurrent;
using System.Diagnostics;

namespace WebhookReceiver.IntegrationTests.Infrastructure;

/// <summary>
/// The app as its own OS process on a loopback port (real Kestrel, not WebApplicationFactory). Runs the
/// published output named by WEBHOOKRECEIVER_APP_DIR (scripts/test.sh publishes it), else the build copy
/// beside the tests.
/// </summary>
internal sealed class AppProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private AppProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }
    public bool HasExited => _process.HasExited;
    /// <summary>The OS process id (to signal it, e.g. SIGSTOP/SIGCONT in ProcessSignals).</summary>
    public int Id => _process.Id;
    public string RecentOutput => string.Join('\n', _output.TakeLast(40));

    public static string AppDirectory =>
        Environment.GetEnvironmentVariable("WEBHOOKRECEIVER_APP_DIR") is { Length: > 0 } dir ? dir : AppContext.BaseDirectory;

    /// <param name="readinessPath">What must answer 2xx before the app counts as started: /health/live for an app
    /// that is meant to run without its database.</param>
    public static async Task<AppProcess> StartAsync(
        IReadOnlyDictionary<string, string?> environment, string readinessPath = "/health/ready")
    {
        var port = Ports.Free();
        var start = new ProcessStartInfo("dotnet", ["WebhookReceiver.dll"])
        {
            WorkingDirectory = AppDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        var process = Process.Start(start)!;
        var app = new AppProcess(process, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => app.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => app.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await app.WaitReadyAsync(readinessPath, TimeSpan.FromSeconds(60));
        return app;
    }

    /// <summary>
    /// Runs the app with these arguments (none: the service itself) until it exits on its own, as an operator would
    /// run <c>migrate</c> or watch a service that refuses to start. Fails the test if it is still running at the timeout.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(
        IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("dotnet", ["WebhookReceiver.dll", .. arguments])
        {
            WorkingDirectory = AppDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{Ports.Free()}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"the app was still running after {timeout.TotalSeconds:0} s: {await output} {await errors}");
        }
        return (process.ExitCode, await output + "\n" + await errors);
    }

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress };

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        _output.Enqueue(line);
        while (_output.Count > 200)
        {
            _output.TryDequeue(out _);
        }
    }

    private async Task WaitReadyAsync(string readinessPath, TimeSpan timeout)
    {
        using var client = CreateClient();
        await Eventually.WaitAsync(async () =>
        {
            if (_process.HasExited)
            {
                Assert.Fail($"the app exited with {_process.ExitCode}: {RecentOutput}");
            }
            try
            {
                using var response = await client.GetAsync(new Uri(readinessPath, UriKind.Relative));
                return response.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, timeout, $"the app on {BaseAddress} to be ready");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
