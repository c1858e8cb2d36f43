using System.Buffers;
using System.Text;
using System.Text.Json;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// The request headers kept with an accepted event and with a quarantined body (one allow-list for both), so an
/// investigation can see who sent what through which proxy and how it was authenticated. An allow-list, never a
/// deny-list: signatures, Authorization, cookies and tokens cannot be kept by accident, whatever a sender adds.
/// </summary>
internal static class KeptHeaders
{
    /// <summary>Lower-case names, as kept. Order is the order of the JSON object.</summary>
    public static readonly string[] Names =
    [
        "content-type", "content-length", "user-agent", "webhook-id", "webhook-timestamp", "svix-id", "svix-timestamp",
        "x-forwarded-for", "forwarded",
    ];

    /// <summary>Not a header: which authentication let the request in ("signature:&lt;n&gt;", "basic", "none").</summary>
    public const string AuthenticatedBy = "authenticated_by";

    /// <summary>A longer value (a long proxy chain, a padded user agent) is cut: the row stays small.</summary>
    public const int MaxValueLength = 1024;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // The text goes to a jsonb column: PostgreSQL reads any valid escape, so only what JSON requires is escaped.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    // One buffer and writer per thread, reused: building the JSON costs the result string and nothing else.
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    /// <summary>The kept headers of a request as a JSON object, plus <see cref="AuthenticatedBy"/> when known.</summary>
    public static string Json(IHeaderDictionary headers, string? authenticatedBy)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        writer.Reset(buffer);
        writer.WriteStartObject();
        foreach (var name in Names)
        {
            var value = headers[name];
            if (value.Count > 0)
            {
                var text = value.Count == 1 ? value[0] ?? "" : value.ToString();
                writer.WriteString(name, text.Length > MaxValueLength ? Cut(text) : text);
            }
        }
        if (authenticatedBy is not null)
        {
            writer.WriteString(AuthenticatedBy, authenticatedBy);
        }
        writer.WriteEndObject();
        writer.Flush();
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    // Never between the halves of a surrogate pair: the writer refuses invalid UTF-16.
    private static ReadOnlySpan<char> Cut(string text) =>
        text.AsSpan(0, char.IsHighSurrogate(text[MaxValueLength - 1]) ? MaxValueLength - 1 : MaxValueLength);
}
