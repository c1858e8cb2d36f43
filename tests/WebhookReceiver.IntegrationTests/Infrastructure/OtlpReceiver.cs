using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WebhookReceiver.IntegrationTests.Infrastructure;

/// <summary>A span as the exporter sent it (ids as lower-case hex, as in a traceparent).</summary>
public sealed record ReceivedSpan(
    string Scope, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind,
    IReadOnlyDictionary<string, string> Attributes, IReadOnlyList<(string TraceId, string SpanId)> Links)
{
    public const int KindServer = 2;
    public const int KindClient = 3;
}

/// <summary>
/// An OTLP/HTTP collector on a loopback port: accepts protobuf on /v1/traces (what the OpenTelemetry exporter sends with
/// OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf) and keeps every span. Reads only the fields the tests look at.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();
    private WebApplication? _app;

    public string BaseUrl { get; private set; } = "";

    public IReadOnlyList<ReceivedSpan> Spans => _spans.ToArray();

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/v1/traces", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            foreach (var span in Otlp.ReadSpans(body.ToArray()))
            {
                _spans.Enqueue(span);
            }
            // An empty ExportTraceServiceResponse: everything accepted.
            return Results.Bytes([], "application/x-protobuf");
        });
        await _app.StartAsync();
        BaseUrl = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    /// <summary>The few messages of opentelemetry/proto/trace/v1 the tests need, read off the protobuf wire format.</summary>
    private static class Otlp
    {
        public static IEnumerable<ReceivedSpan> ReadSpans(byte[] request)
        {
            foreach (var resourceSpans in Fields(request).Where(f => f.Number == 1))
            {
                foreach (var scopeSpans in Fields(resourceSpans.Bytes).Where(f => f.Number == 2))
                {
                    var scope = Fields(scopeSpans.Bytes).Where(f => f.Number == 1)
                        .Select(f => Text(Fields(f.Bytes).FirstOrDefault(s => s.Number == 1).Bytes)).FirstOrDefault() ?? "";
                    foreach (var span in Fields(scopeSpans.Bytes).Where(f => f.Number == 2))
                    {
                        yield return Span(scope, span.Bytes);
                    }
                }
            }
        }

        private static ReceivedSpan Span(string scope, byte[] span)
        {
            var fields = Fields(span).ToList();
            byte[] One(int number) => fields.FirstOrDefault(f => f.Number == number).Bytes ?? [];
            var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var kv in fields.Where(f => f.Number == 9))
            {
                var parts = Fields(kv.Bytes).ToList();
                var key = Text(parts.FirstOrDefault(p => p.Number == 1).Bytes);
                var value = parts.FirstOrDefault(p => p.Number == 2).Bytes is { } any ? AnyValue(any) : "";
                attributes[key] = value;
            }
            var links = fields.Where(f => f.Number == 13).Select(link =>
            {
                var parts = Fields(link.Bytes).ToList();
                return (Hex(parts.FirstOrDefault(p => p.Number == 1).Bytes), Hex(parts.FirstOrDefault(p => p.Number == 2).Bytes));
            }).ToList();
            return new ReceivedSpan(scope, Hex(One(1)), Hex(One(2)), Hex(One(4)), Text(One(5)),
                (int)fields.FirstOrDefault(f => f.Number == 6).Varint, attributes, links);
        }

        /// <summary>AnyValue: string_value (1) or int_value (3), the two kinds our attributes use.</summary>
        private static string AnyValue(byte[] any)
        {
            foreach (var f in Fields(any))
            {
                switch (f.Number)
                {
                    case 1: return Text(f.Bytes);
                    case 3: return f.Varint.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
            }
            return "";
        }

        private readonly record struct Field(int Number, ulong Varint, byte[] Bytes);

        private static IEnumerable<Field> Fields(byte[]? message)
        {
            if (message is null)
            {
                yield break;
            }
            var i = 0;
            while (i < message.Length)
            {
                var tag = ReadVarint(message, ref i);
                var (number, wireType) = ((int)(tag >> 3), (int)(tag & 7));
                switch (wireType)
                {
                    case 0:
                        yield return new Field(number, ReadVarint(message, ref i), []);
                        break;
                    case 1:
                        i += 8;
                        break;
                    case 2:
                        var length = (int)ReadVarint(message, ref i);
                        yield return new Field(number, 0, message[i..(i + length)]);
                        i += length;
                        break;
                    case 5:
                        i += 4;
                        break;
                    default:
                        throw new InvalidDataException($"wire type {wireType} in an OTLP message");
                }
            }
        }

        private static ulong ReadVarint(byte[] data, ref int i)
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = data[i++];
                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
        }

        private static string Hex(byte[]? bytes) => bytes is null ? "" : Convert.ToHexStringLower(bytes);

        private static string Text(byte[]? bytes) => bytes is null ? "" : Encoding.UTF8.GetString(bytes);
    }
}
