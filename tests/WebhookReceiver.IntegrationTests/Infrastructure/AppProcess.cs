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

    /// <summary>Operator credentials every process gets unless the test's environment says otherwise (null removes them).</summary>
    public const string OperatorUser = "ops";
    public const string OperatorPassword = "operator-pass-for-process-tests";

    /// <param name="unixSocket">Also listen on this Unix socket (the loopback port stays, for readiness).</param>
    /// <param name="readinessPath">What must answer 2xx before the app counts as started: /health/live for an app
    /// that is meant to run without its database.</param>
    public static async Task<AppProcess> StartAsync(IReadOnlyDictionary<string, string?> environment, string? unixSocket = null,
        string readinessPath = "/health/ready")
    {
        var port = Ports.Free();
        var urls = $"http://127.0.0.1:{port}" + (unixSocket is null ? "" : $";http://unix:{unixSocket}");
        var process = Process.Start(StartInfo(environment, urls, []))!;
        var app = new AppProcess(process, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => app.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => app.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await app.WaitReadyAsync(readinessPath, TimeSpan.FromSeconds(60));
        return app;
    }

    /// <summary>Runs the app until it exits by itself (a refusal to start, a command): its exit code and everything it wrote.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(IReadOnlyDictionary<string, string?> environment,
        params string[] arguments)
    {
        using var process = Process.Start(StartInfo(environment, $"http://127.0.0.1:{Ports.Free()}", arguments))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"the app did not exit within 60 s: {await output} {await errors}");
        }
        return (process.ExitCode, await output + "\n" + await errors);
    }

    private static ProcessStartInfo StartInfo(IReadOnlyDictionary<string, string?> environment, string urls, string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", ["WebhookReceiver.dll", .. arguments])
        {
            WorkingDirectory = AppDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_URLS"] = urls;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        // Production refuses to start without operator credentials, as a real deployment would.
        start.Environment["Dashboard__Username"] = OperatorUser;
        start.Environment["Dashboard__Password"] = OperatorPassword;
        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }
        return start;
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
