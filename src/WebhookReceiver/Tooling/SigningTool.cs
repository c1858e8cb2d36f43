using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tooling;

/// <summary>
/// `sign` and `send`: Standard Webhooks signing for operators (test a deployment, replay a stored body), like
/// `stripe trigger`. Runs before any host is built: no database, no configuration. Signs with the verifier's own
/// construction (<see cref="StandardWebhookVerifier.Sign"/>), so the tool and the service cannot disagree.
/// </summary>
internal static class SigningTool
{
    public const string DefaultUrl = "http://127.0.0.1:8080/webhooks/minivoice";
    private const string SecretVariable = "WEBHOOK_SECRET";

    public const string Usage = """
        usage:
          WebhookReceiver sign --secret whsec_… [--id ID] [--timestamp UNIX] [--url URL] FILE
              prints the webhook-id, webhook-timestamp and webhook-signature headers and a curl command
          WebhookReceiver send --url URL (--secret whsec_… | --basic USER:PASS) [--id ID] [--timestamp UNIX] FILE
              posts FILE, signed (or with HTTP Basic), and prints the status and answer; exit code 1 unless 2xx
        --secret defaults to $WEBHOOK_SECRET (keeps it out of the process list). A new webhook-id (msg_…) and the
        current time are used unless --id / --timestamp are given: the same --id again is a duplicate delivery.
        """;

    public static bool Handles(string[] args) => args is ["sign" or "send", ..];

    /// <returns>0 success, 1 the request was not answered 2xx (or failed), 2 bad usage.</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, HttpMessageHandler? handler = null)
    {
        if (!Options.TryParse(args, out var o, out var error))
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
        byte[] key = [];
        if (o.Secret is not null && !SigningSecret.TryDecode(o.Secret, out key))
        {
            await stderr.WriteLineAsync("--secret is not a signing secret (whsec_ followed by base64)");
            await stderr.WriteLineAsync(Usage);
            return 2;
        }
        byte[] body;
        try
        {
            body = await File.ReadAllBytesAsync(o.File!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"cannot read {o.File}: {ex.Message}");
            return 2;
        }
        var headers = AuthHeaders(o.Secret is null ? null : key, o.Basic, o.Id, o.Timestamp, body);
        return o.Command == "sign"
            ? await PrintAsync(o, headers, stdout)
            : await SendAsync(o, headers, body, stdout, stderr, handler);
    }

    /// <summary>
    /// The headers that authenticate a webhook: Standard Webhooks signature headers when a key is given (a new msg_… id
    /// and the current time unless given), HTTP Basic when credentials are. Shared with the smoke test (one construction).
    /// </summary>
    internal static List<(string Name, string Value)> AuthHeaders(byte[]? key, string? basic, string? id, string? timestamp, byte[] body)
    {
        var headers = new List<(string Name, string Value)>();
        if (key is not null)
        {
            id ??= "msg_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
            timestamp ??= DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            headers.Add(("webhook-id", id));
            headers.Add(("webhook-timestamp", timestamp));
            headers.Add(("webhook-signature", StandardWebhookVerifier.Sign(key, id, timestamp, body)));
        }
        if (basic is not null)
        {
            headers.Add(("Authorization", BasicValue(basic)));
        }
        return headers;
    }

    internal static string BasicValue(string userColonPassword) =>
        "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(userColonPassword));

    /// <summary>$WEBHOOK_SECRET, the default of --secret (keeps it out of the process list).</summary>
    internal static string? SecretFromEnvironment() => Environment.GetEnvironmentVariable(SecretVariable) is { Length: > 0 } s ? s : null;

    private static async Task<int> PrintAsync(Options o, List<(string Name, string Value)> headers, TextWriter stdout)
    {
        foreach (var (name, value) in headers.Where(h => h.Name.StartsWith("webhook-", StringComparison.Ordinal)))
        {
            await stdout.WriteLineAsync($"{name}: {value}");
        }
        await stdout.WriteLineAsync();
        // --data-binary @FILE sends the exact bytes that were signed (-d would strip newlines).
        var curl = new StringBuilder("curl -sS -i -X POST ").Append(Quote(o.Url ?? DefaultUrl))
            .Append(" -H ").Append(Quote("Content-Type: application/json"));
        foreach (var (name, value) in headers)
        {
            curl.Append(" -H ").Append(Quote($"{name}: {value}"));
        }
        curl.Append(" --data-binary ").Append(Quote("@" + o.File));
        await stdout.WriteLineAsync(curl.ToString());
        return 0;
    }

    private static async Task<int> SendAsync(Options o, List<(string Name, string Value)> headers, byte[] body, TextWriter stdout,
        TextWriter stderr, HttpMessageHandler? handler)
    {
        using var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.Timeout = TimeSpan.FromSeconds(30);
        using var request = new HttpRequestMessage(HttpMethod.Post, o.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        try
        {
            using var response = await http.SendAsync(request);
            var answer = await response.Content.ReadAsStringAsync();
            await stdout.WriteLineAsync($"{(int)response.StatusCode} {response.ReasonPhrase}");
            if (headers.FirstOrDefault(h => h.Name == "webhook-id").Value is { } sentId)
            {
                await stdout.WriteLineAsync($"webhook-id: {sentId}");
            }
            await stdout.WriteLineAsync(answer);
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await stderr.WriteLineAsync($"POST {o.Url} failed: {ex.Message}");
            return 1;
        }
    }

    /// <summary>POSIX shell single quotes: the value is taken literally.</summary>
    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private sealed record Options(
        string Command, string? Secret, string? Basic, string? Id, string? Timestamp, string? Url, string? File, bool Help)
    {
        public static bool TryParse(string[] args, out Options options, out string error)
        {
            options = new Options(args[0], SecretFromEnvironment(), null, null, null, null, null, false);
            error = "";
            for (var i = 1; i < args.Length; i++)
            {
                var arg = args[i];
                if (arg is "-h" or "--help")
                {
                    options = options with { Help = true };
                    return true;
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
                        case "--secret": options = options with { Secret = value }; break;
                        case "--basic": options = options with { Basic = value }; break;
                        case "--id": options = options with { Id = value }; break;
                        case "--timestamp": options = options with { Timestamp = value }; break;
                        case "--url": options = options with { Url = value }; break;
                        default: error = $"unknown option {arg}"; return false;
                    }
                }
                else if (options.File is null)
                {
                    options = options with { File = arg };
                }
                else
                {
                    error = $"one file only ({options.File}, then {arg})";
                    return false;
                }
            }
            error = options switch
            {
                { File: null } => "no FILE given",
                { Command: "sign", Secret: null } => "sign needs --secret (or $WEBHOOK_SECRET)",
                { Command: "send", Url: null } => "send needs --url",
                { Command: "send", Secret: null, Basic: null } => "send needs --secret or --basic",
                { Basic: { } b } when !b.Contains(':', StringComparison.Ordinal) => "--basic takes USER:PASS",
                { Timestamp: { } t } when !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out _) =>
                    "--timestamp takes Unix seconds",
                _ => "",
            };
            return error.Length == 0;
        }
    }
}
