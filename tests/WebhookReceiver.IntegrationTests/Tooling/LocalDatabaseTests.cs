using System.Diagnostics;
using System.Text.RegularExpressions;
using WebhookReceiver.IntegrationTests.Infrastructure;
using WebhookReceiver.IntegrationTests.Reliability;

namespace WebhookReceiver.IntegrationTests.Tooling;

/// <summary>
/// scripts/run.sh's own PostgreSQL (scripts/local-db.sh) from a copy of the scripts in a checkout whose home is 0700,
/// as a fresh VM's /root is. Run as root (CI) the server runs as the postgres OS user, which cannot enter that home;
/// run as anyone else the home is the user's own. `dotnet` is a stand-in that prints what run.sh hands the app.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // bash scripts and Unix permissions
public sealed partial class LocalDatabaseTests : IAsyncLifetime
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private readonly string _home = Path.Combine("/tmp", "wr-home-" + Guid.NewGuid().ToString("N")[..8]);
    private string Checkout => Path.Combine(_home, "checkout");

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(Checkout, "scripts"));
        File.SetUnixFileMode(_home, Private);
        foreach (var script in Directory.GetFiles(Path.Combine(SecurityTests.RepositoryRoot(), "scripts"), "*.sh"))
        {
            File.Copy(script, Path.Combine(Checkout, "scripts", Path.GetFileName(script)));
        }
        var fakeDotnet = Path.Combine(_home, "bin", "dotnet");
        Directory.CreateDirectory(Path.GetDirectoryName(fakeDotnet)!);
        File.WriteAllText(fakeDotnet, "#!/bin/sh\necho \"dotnet $*\"\necho \"app database: $ConnectionStrings__Postgres\"\n");
        File.SetUnixFileMode(fakeDotnet, Private);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Run_sh_starts_its_database_from_a_checkout_in_a_private_home_and_says_where_it_lives()
    {
        var (exit, output, errors) = await Run("run.sh");

        Assert.True(exit == 0, $"run.sh exited {exit}: {output} {errors}");
        var dir = DatabaseFiles().Match(output).Groups[1].Value;
        if (Environment.IsPrivilegedProcess)
        {
            Assert.StartsWith("/var/lib/webhookreceiver/", dir, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(Path.Combine(Checkout, ".local", "pg"), dir);
        }
        Assert.Contains("dotnet run --project src/WebhookReceiver", output, StringComparison.Ordinal);
        var connectionString = AppDatabase().Match(output).Groups[1].Value;
        var dataDirectory = await Db.ScalarAsync<string>(connectionString, "SELECT current_setting('data_directory')");
        Assert.Equal(Path.Combine(dir, "data"), dataDirectory);
        Assert.Equal(dir, (await Run("local-db.sh", "dir")).Output.Trim());
    }

    [Fact]
    public async Task A_checkout_the_server_user_can_reach_keeps_its_database_in_dot_local()
    {
        File.SetUnixFileMode(_home, Private | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead
            | UnixFileMode.OtherExecute);

        var (exit, output, errors) = await Run("local-db.sh", "dir");

        Assert.True(exit == 0, $"local-db.sh dir exited {exit}: {errors}");
        Assert.Equal(Path.Combine(Checkout, ".local", "pg"), output.Trim());
    }

    private async Task<(int Exit, string Output, string Errors)> Run(string script, params string[] args)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(Checkout, "scripts", script), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["PATH"] = Path.Combine(_home, "bin") + ":" + Environment.GetEnvironmentVariable("PATH");
        start.Environment.Remove("ConnectionStrings__Postgres");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        return (process.ExitCode, await output, await errors);
    }

    public async Task DisposeAsync()
    {
        var dir = (await Run("local-db.sh", "dir")).Output.Trim();
        await Run("local-db.sh", "stop");
        // The shared location is outside the checkout: remove this checkout's server from it too.
        if (dir.StartsWith("/var/lib/webhookreceiver/", StringComparison.Ordinal) && Directory.Exists(dir))
        {
            Directory.Delete(Path.GetDirectoryName(dir)!, recursive: true);
        }
        Directory.Delete(_home, recursive: true);
    }

    [GeneratedRegex(@"^ Database files: (\S+)", RegexOptions.Multiline)]
    private static partial Regex DatabaseFiles();

    [GeneratedRegex(@"^app database: (.+)$", RegexOptions.Multiline)]
    private static partial Regex AppDatabase();
}
