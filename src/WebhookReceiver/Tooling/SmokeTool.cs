using System.Globalization;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tooling;

/// <summary>
/// `smoke`: the first thing to run after a deploy. Plays MiniVoice's own test paths (a completed call, a caller hangup,
/// destination failures, an invalid body, a redelivery) against a running instance with fresh call IDs, reads each call
/// back and waits for its background work (README "Smoke test after a deploy"). Runs before any host is built: it is a
/// client of the deployment, like `send`, and signs with the same construction (<see cref="SigningTool.AuthHeaders"/>).
/// </summary>
internal static class SmokeTool
{
    public const string Usage = """
        usage:
          WebhookReceiver smoke --url URL (--secret whsec_… | --basic USER:PASS) [--operator USER:PASS] [--timeout SECONDS]
              plays a completed call, a caller hangup, a busy and a no-answer call, an invalid body and a redelivery
              against the instance at URL (its base address, e.g. https://hooks.example.com), with fresh call IDs;
              reads each call back with the operator credentials and waits (at most --timeout, default 60 s) for its
              crm.sync (and ticket.create for the failures) to succeed or be skipped.
              Prints one line per step and a summary; exit code 0 when all pass, 1 on any failure, 2 on bad usage.
        --secret defaults to $WEBHOOK_SECRET (keeps it out of the process list); --operator may be left out only where
        operator endpoints answer without credentials (Dashboard:AllowLocalWithoutCredentials on the same host).
        """;

    public static bool Handles(string[] args) => args is ["smoke", ..];

    /// <returns>0 every step passed, 1 a step failed, 2 bad usage.</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, HttpMessageHandler? handler = null)
    {
        if (!SmokeOptions.TryParse(args, out var o, out var error))
        {
            await stderr.WriteLineAsync(error);
            await stderr.WriteLineAsync(Usage);
            return 2;
        }
        if (o.Help)
        {
            await stdout.WriteLineAsync(Usage);
            return 0;
        }
        using var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.Timeout = TimeSpan.FromSeconds(15);
        return await new SmokeRun(http, o, stdout).RunAsync();
    }
}

/// <summary>The parsed command line; Key is the decoded --secret.</summary>
internal sealed record SmokeOptions(Uri BaseUrl, byte[]? Key, string? Basic, string? Operator, TimeSpan Timeout, bool Help)
{
    public static bool TryParse(string[] args, out SmokeOptions options, out string error)
    {
        options = null!;
        error = "";
        string? url = null, basic = null, op = null, timeout = null;
        var secret = SigningTool.SecretFromEnvironment();
        for (var i = 1; i < args.Length; i++)
        {
            if (args[i] is "-h" or "--help")
            {
                options = new SmokeOptions(new Uri("http://localhost"), null, null, null, TimeSpan.Zero, Help: true);
                return true;
            }
            if (i + 1 >= args.Length || !args[i].StartsWith("--", StringComparison.Ordinal))
            {
                error = args[i].StartsWith("--", StringComparison.Ordinal) ? $"{args[i]} needs a value" : $"unexpected argument {args[i]}";
                return false;
            }
            var value = args[++i];
            switch (args[i - 1])
            {
                case "--url": url = value; break;
                case "--secret": secret = value; break;
                case "--basic": basic = value; break;
                case "--operator": op = value; break;
                case "--timeout": timeout = value; break;
                default: error = $"unknown option {args[i - 1]}"; return false;
            }
        }
        byte[] decoded = [];
        var badSecret = secret is not null && !SigningSecret.TryDecode(secret, out decoded);
        var seconds = 60.0;
        error = (url, secret, basic, op, timeout) switch
        {
            (null, _, _, _, _) => "smoke needs --url",
            _ when !Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https") =>
                "--url takes the instance's http(s) base address",
            (_, null, null, _, _) => "smoke needs --secret (or $WEBHOOK_SECRET) or --basic",
            _ when badSecret => "--secret is not a signing secret (whsec_ followed by base64)",
            _ when basic is not null && !basic.Contains(':', StringComparison.Ordinal) => "--basic takes USER:PASS",
            _ when op is not null && !op.Contains(':', StringComparison.Ordinal) => "--operator takes USER:PASS",
            _ when timeout is not null && (!double.TryParse(timeout, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds)
                                           || seconds is <= 0 or > 3600) => "--timeout takes seconds (1–3600)",
            _ => "",
        };
        if (error.Length > 0)
        {
            return false;
        }
        // The base address; the webhook path itself is accepted too (what MiniVoice is configured with).
        var root = url!.TrimEnd('/');
        if (root.EndsWith(WebhooksPath, StringComparison.Ordinal))
        {
            root = root[..^WebhooksPath.Length];
        }
        options = new SmokeOptions(new Uri(root + "/"), secret is null ? null : decoded, basic, op, TimeSpan.FromSeconds(seconds),
            Help: false);
        return true;
    }

    public const string WebhooksPath = "/webhooks/minivoice";
}
