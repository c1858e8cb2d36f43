using System.Diagnostics;

namespace WebhookReceiver.IntegrationTests.Infrastructure;

/// <summary>
/// Freezes and thaws an <see cref="AppProcess"/> with SIGSTOP / SIGCONT (`kill -STOP pid`): a process stopped by a
/// debugger, a VM pause or a node under memory pressure, which holds its work without running it.
/// </summary>
internal static class ProcessSignals
{
    /// <summary>SIGSTOP: the process keeps its sockets and leases but runs no code until <see cref="ResumeAsync"/>.</summary>
    public static Task StopAsync(this AppProcess app) => SignalAsync(app.Id, "STOP");

    /// <summary>SIGCONT; harmless on a process that is not stopped or already gone.</summary>
    public static Task ResumeAsync(this AppProcess app) => app.HasExited ? Task.CompletedTask : SignalAsync(app.Id, "CONT");

    /// <summary>The state letter of /proc/{pid}/stat: 'T' while stopped, 'S'/'R' while running.</summary>
    public static char State(this AppProcess app)
    {
        var stat = File.ReadAllText($"/proc/{app.Id}/stat");
        return stat[(stat.LastIndexOf(')') + 2)..][0];
    }

    private static async Task SignalAsync(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardError = true,
        })!;
        await kill.WaitForExitAsync();
        Assert.True(kill.ExitCode == 0, $"kill -{signal} {pid} exited {kill.ExitCode}: {await kill.StandardError.ReadToEndAsync()}");
    }
}
