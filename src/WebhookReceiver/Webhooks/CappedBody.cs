using System.Buffers;

namespace WebhookReceiver.Webhooks;

internal static class CappedBody
{
    /// <summary>Reads the whole body, or returns null as soon as it exceeds <paramref name="maxBytes"/> (chunked bodies too).</summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        var reader = request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.Length > maxBytes)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }
            if (result.IsCompleted)
            {
                var bytes = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return bytes;
            }
            // Nothing consumed yet: ask for more.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
