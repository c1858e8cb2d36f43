using System.Security.Cryptography;
using System.Text;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// Standard Webhooks (https://www.standardwebhooks.com) signature check over the raw body bytes:
/// HMAC-SHA256 of "id.timestamp.body", base64, in a space-separated list of "v1,&lt;sig&gt;".
/// </summary>
internal sealed class StandardWebhookVerifier
{
    private readonly byte[][] _keys;
    private readonly TimeSpan _tolerance;
    private readonly TimeProvider _clock;

    public StandardWebhookVerifier(IEnumerable<string> secrets, TimeSpan tolerance, TimeProvider clock)
    {
        _keys = secrets.Select(s => SigningSecret.TryDecode(s, out var key) ? key : throw new ArgumentException("invalid signing secret"))
            .ToArray();
        _tolerance = tolerance;
        _clock = clock;
    }

    public bool IsConfigured => _keys.Length > 0;

    public SignatureResult Verify(string? id, string? timestamp, string? signatureHeader, ReadOnlySpan<byte> body)
    {
        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signatureHeader))
        {
            return SignatureResult.MissingHeaders;
        }
        if (!long.TryParse(timestamp, System.Globalization.NumberStyles.None, null, out var unixSeconds))
        {
            return SignatureResult.BadTimestamp;
        }
        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        // Refuse both stale and future timestamps: a replayed or pre-signed request must not pass.
        if (Math.Abs(now - unixSeconds) > (long)_tolerance.TotalSeconds)
        {
            return SignatureResult.OutsideTolerance;
        }

        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp}.");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));

        Span<byte> expected = stackalloc byte[32];
        Span<byte> candidate = stackalloc byte[64];
        foreach (var key in _keys)
        {
            HMACSHA256.HashData(key, message, expected);
            foreach (var part in signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (!part.StartsWith("v1,", StringComparison.Ordinal))
                {
                    continue;
                }
                if (Convert.TryFromBase64String(part[3..], candidate, out var written) && written == expected.Length
                    && CryptographicOperations.FixedTimeEquals(candidate[..written], expected))
                {
                    return SignatureResult.Valid;
                }
            }
        }
        return SignatureResult.Mismatch;
    }
}

internal enum SignatureResult
{
    Valid,
    MissingHeaders,
    BadTimestamp,
    OutsideTolerance,
    Mismatch,
}
