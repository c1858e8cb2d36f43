using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Npgsql;
using WebhookReceiver.Calls;
using WebhookReceiver.Data;

namespace WebhookReceiver.Fixtures;

/// <summary>One file of a fixture: its name in the folder (or zip) and its bytes.</summary>
internal sealed record FixtureFile(string Name, byte[] Content);

/// <summary>
/// A call's events as a fixture (README "Fixtures from real traffic"): per event in arrival order (received_at,
/// id) its body byte for byte (NNN-&lt;event&gt;.json) and its kept request headers (NNN-&lt;event&gt;.headers.json),
/// plus expected.json, the arrival-independent part of the record they produced (<see cref="ExpectedRecord"/>).
/// The `fixtures export` command writes them to a folder, the console's call page offers them as a zip.
/// </summary>
internal sealed class FixtureExport(NpgsqlDataSource dataSource, AppDbContext db, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
{
    public const string ExpectedFile = "expected.json";
    public const string HeadersSuffix = ".headers.json";

    // Every event of the call, not only the timeline's newest 500: a replay must send them all.
    private const string EventsSql = """
        SELECT event, raw_body, request_headers::text FROM webhook_events WHERE call_id = $1 ORDER BY received_at, id
        """;

    /// <returns>null when no call has this ID.</returns>
    public async Task<IReadOnlyList<FixtureFile>?> BuildAsync(string callId, CancellationToken cancellationToken)
    {
        var call = await CallsApi.LoadCallAsync(db, callId, cancellationToken);
        if (call is null)
        {
            return null;
        }
        var events = new List<(string Event, byte[] Body, string? Headers)>();
        await using (var command = dataSource.CreateCommand(EventsSql))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = callId });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                events.Add((reader.GetString(0), (byte[])reader[1], reader.IsDBNull(2) ? null : reader.GetString(2)));
            }
        }
        var width = Math.Max(3, events.Count.ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        var files = new List<FixtureFile>(events.Count * 2 + 1);
        for (var i = 0; i < events.Count; i++)
        {
            var position = (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(width, '0');
            var stem = position + "-" + SafeName(events[i].Event);
            files.Add(new FixtureFile(stem + ".json", events[i].Body));
            var headers = events[i].Headers is { } h ? JsonNode.Parse(h)! : new JsonObject();
            files.Add(new FixtureFile(stem + HeadersSuffix, Utf8(headers.ToJsonString(ExpectedRecord.FileOptions))));
        }
        var record = JsonSerializer.SerializeToNode(call, json.Value.SerializerOptions)!.AsObject();
        files.Add(new FixtureFile(ExpectedFile, Utf8(ExpectedRecord.Of(record).ToJsonString(ExpectedRecord.FileOptions))));
        return files;
    }

    /// <summary>The files as a zip archive (the console's download).</summary>
    public static byte[] Zip(IReadOnlyList<FixtureFile> files)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var file in files)
            {
                using var entry = zip.CreateEntry(file.Name, CompressionLevel.Fastest).Open();
                entry.Write(file.Content);
            }
        }
        return buffer.ToArray();
    }

    /// <summary>An event name (or call ID) as part of a file name: anything but letters, digits, '.', '-' and '_' becomes '_'.</summary>
    public static string SafeName(string name)
    {
        var safe = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray());
        safe = safe.Trim('.');
        safe = safe.Length == 0 ? "event" : safe.Length > 64 ? safe[..64] : safe;
        // An event called "x.headers" must not look like the headers file of an event called "x".
        return safe.EndsWith(".headers", StringComparison.Ordinal) ? safe + "_" : safe;
    }

    /// <summary>Whether a file of a fixture is an event body (not expected.json, not a headers file).</summary>
    public static bool IsBody(string name) =>
        name != ExpectedFile && !name.EndsWith(HeadersSuffix, StringComparison.Ordinal) && name.EndsWith(".json", StringComparison.Ordinal);

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text + "\n");
}
