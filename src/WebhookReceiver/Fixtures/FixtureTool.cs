using System.Globalization;
using Microsoft.Extensions.Options;
using Npgsql;
using WebhookReceiver.Data;

namespace WebhookReceiver.Fixtures;

/// <summary>
/// `fixtures export` and `fixtures replay` (README "Fixtures from real traffic"). Export reads the configured
/// database (like `migrate`: the host is built, never started: no web server, no Hangfire); replay only talks HTTP
/// to a running instance and runs before any host is built.
/// </summary>
internal static class FixtureTool
{
    public const string Usage = """
        usage:
          WebhookReceiver fixtures export --call ID --out DIR
              writes the call's events (bodies byte for byte, kept headers, arrival order) and expected.json to DIR
              (created; must be empty), reading the database of ConnectionStrings:Postgres
          WebhookReceiver fixtures replay DIR --url URL (--secret whsec_… | --basic USER:PASS) [--operator USER:PASS]
                                              [--shuffle] [--seed N] [--keep-ids]
              sends DIR's bodies to the instance at URL (POST /webhooks/minivoice, signed or with HTTP Basic), then
              compares GET /calls/{id} with DIR/expected.json: each difference as "path: expected …, actual …";
              exit code 1 on any difference or refused event
        --secret defaults to $WEBHOOK_SECRET, --operator to $OPERATOR_CREDENTIALS (keeps them out of the process list).
        A fresh webhook-id per event and run, unless --keep-ids: the recorded ones (one derived from the body for an
        event that had none), so a second replay into the same instance is all duplicates. --shuffle sends in a
        random order (--seed N repeats one).
        """;

    public static bool Handles(string[] args) => args is ["fixtures", ..];

    /// <summary>Whether the command needs the configured database (export), so the host must be built first.</summary>
    public static bool NeedsHost(string[] args) => args is ["fixtures", "export", ..] && ExportOptions.TryParse(args, out _, out _);

    /// <summary>Everything but a well-formed export: replay, help and bad usage, without building a host.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, HttpMessageHandler? handler = null)
    {
        switch (args)
        {
            case ["fixtures"] or ["fixtures", "-h" or "--help" or "help", ..]:
                await stdout.WriteLineAsync(Usage);
                return 0;
            case ["fixtures", "export", ..]:
                // Here only when its arguments are wrong (a well-formed export needs the host: ExportAsync).
                return await BadUsageAsync(stderr, ExportOptions.TryParse(args, out _, out var error) ? "" : error);
            case ["fixtures", "replay", ..]:
                if (!ReplayOptions.TryParse(args, out var replay, out var replayError))
                {
                    return await BadUsageAsync(stderr, replayError);
                }
                return await new FixtureReplay(replay, stdout, stderr, handler).RunAsync();
            default:
                return await BadUsageAsync(stderr, $"unknown fixtures command '{args[1]}'");
        }
    }

    /// <summary>`fixtures export`, with the built (not started) host's services.</summary>
    public static async Task<int> ExportAsync(string[] args, IServiceProvider services, TextWriter stdout, TextWriter stderr)
    {
        if (!ExportOptions.TryParse(args, out var o, out var error))
        {
            return await BadUsageAsync(stderr, error);
        }
        if (Directory.Exists(o.Out) && Directory.EnumerateFileSystemEntries(o.Out).Any())
        {
            // A replay sends every body file in the folder: another call's, or a longer export's, would be sent too.
            return await BadUsageAsync(stderr, $"{o.Out} is not empty: export into a new or empty folder");
        }
        await using var scope = services.CreateAsyncScope();
        var sp = scope.ServiceProvider;
        var export = new FixtureExport(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<AppDbContext>(),
            sp.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>());
        IReadOnlyList<FixtureFile>? files;
        try
        {
            files = await export.BuildAsync(o.CallId, CancellationToken.None);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // The message names the server, never the password (Npgsql does not echo it).
            await stderr.WriteLineAsync($"fixtures export: cannot read the database: {ex.Message}");
            return 1;
        }
        if (files is null)
        {
            await stderr.WriteLineAsync($"fixtures export: no call with ID '{o.CallId}' has been seen");
            return 1;
        }
        Directory.CreateDirectory(o.Out);
        foreach (var file in files)
        {
            await File.WriteAllBytesAsync(Path.Combine(o.Out, file.Name), file.Content);
        }
        var events = files.Count(f => FixtureExport.IsBody(f.Name));
        await stdout.WriteLineAsync(
            $"exported call {o.CallId}: {events} events in arrival order, and {FixtureExport.ExpectedFile}, to {o.Out}");
        foreach (var file in files)
        {
            await stdout.WriteLineAsync($"  {file.Name} ({file.Content.Length.ToString(CultureInfo.InvariantCulture)} bytes)");
        }
        return 0;
    }

    private static async Task<int> BadUsageAsync(TextWriter stderr, string error)
    {
        await stderr.WriteLineAsync("fixtures: " + error);
        await stderr.WriteLineAsync(Usage);
        return 2;
    }

    private sealed record ExportOptions(string CallId, string Out)
    {
        public static bool TryParse(string[] args, out ExportOptions options, out string error)
        {
            options = new ExportOptions("", "");
            string? call = null, output = null;
            for (var i = 2; i < args.Length; i++)
            {
                if (args[i] is not ("--call" or "--out"))
                {
                    error = args[i].StartsWith("--", StringComparison.Ordinal)
                        ? $"unknown option {args[i]}"
                        : $"unexpected argument {args[i]}";
                    return false;
                }
                if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    error = $"{args[i]} needs a value";
                    return false;
                }
                _ = args[i] == "--call" ? call = args[++i] : output = args[++i];
            }
            error = (call, output) switch
            {
                (null or "", _) => "export needs --call ID",
                (_, null or "") => "export needs --out DIR",
                _ => "",
            };
            options = new ExportOptions(call ?? "", output ?? "");
            return error.Length == 0;
        }
    }
}

internal sealed record ReplayOptions(
    string Dir, Uri BaseUrl, string? Secret, string? Basic, string? Operator, bool Shuffle, int? Seed, bool KeepIds)
{
    public static bool TryParse(string[] args, out ReplayOptions options, out string error)
    {
        options = null!;
        string? dir = null, url = null, basic = null, seed = null;
        var secret = Tooling.SigningTool.SecretFromEnvironment();
        var op = Environment.GetEnvironmentVariable("OPERATOR_CREDENTIALS") is { Length: > 0 } c ? c : null;
        bool shuffle = false, keepIds = false;
        for (var i = 2; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "--shuffle" or "--keep-ids")
            {
                _ = arg == "--shuffle" ? shuffle = true : keepIds = true;
                continue;
            }
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (i + 1 >= args.Length)
                {
                    error = $"{arg} needs a value";
                    return false;
                }
                var value = args[++i];
                switch (arg)
                {
                    case "--url": url = value; break;
                    case "--secret": secret = value; break;
                    case "--basic": basic = value; break;
                    case "--operator": op = value; break;
                    case "--seed": seed = value; break;
                    default: error = $"unknown option {arg}"; return false;
                }
            }
            else if (dir is null)
            {
                dir = arg;
            }
            else
            {
                error = $"one folder only ({dir}, then {arg})";
                return false;
            }
        }
        var seedValue = 0;
        error = (dir, url, secret, basic) switch
        {
            (null, _, _, _) => "replay needs a fixture folder (DIR)",
            (_, null, _, _) => "replay needs --url (the instance, e.g. http://127.0.0.1:8080)",
            _ when !Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https") =>
                "--url takes an http(s) URL",
            // It is printed: credentials go in --basic / --operator (or their variables), never in the URL.
            _ when new Uri(url).UserInfo.Length > 0 => "--url must not hold credentials (use --basic, --operator)",
            (_, _, null, null) => "replay needs --secret or --basic",
            (_, _, not null, not null) => "replay takes --secret or --basic, not both",
            _ when secret is not null && !Webhooks.SigningSecret.TryDecode(secret, out _) =>
                "--secret is not a signing secret (whsec_ followed by base64)",
            _ when basic is not null && !basic.Contains(':', StringComparison.Ordinal) => "--basic takes USER:PASS",
            _ when op is not null && !op.Contains(':', StringComparison.Ordinal) => "--operator takes USER:PASS",
            _ when seed is not null && !int.TryParse(seed, NumberStyles.Integer, CultureInfo.InvariantCulture, out seedValue) =>
                "--seed takes an integer",
            _ when seed is not null && !shuffle => "--seed goes with --shuffle",
            _ => "",
        };
        if (error.Length > 0)
        {
            return false;
        }
        options = new ReplayOptions(dir!, BaseOf(new Uri(url!)), secret, basic, op, shuffle, seed is null ? null : seedValue, keepIds);
        return true;
    }

    /// <summary>The instance's base URL: the webhook URL itself (…/webhooks/minivoice) is taken too.</summary>
    private static Uri BaseOf(Uri url)
    {
        var path = url.AbsolutePath.TrimEnd('/');
        const string webhook = "/webhooks/minivoice";
        if (path.EndsWith(webhook, StringComparison.Ordinal))
        {
            path = path[..^webhook.Length];
        }
        return new Uri(url, path + "/");
    }
}
