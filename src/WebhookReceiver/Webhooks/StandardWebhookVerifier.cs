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

    public SignatureResult Verify(string? id, string? timestamp, string? signatureHeader, ReadOnlySpan<byte> body) =>
        Verify(id, timestamp, signatureHeader, body, out _);

    /// <param name="matchedSecret">Position in the configured list of the secret that matched (rotation progress), else -1.</param>
    public SignatureResult Verify(string? id, string? timestamp, string? signatureHeader, ReadOnlySpan<byte> body, out int matchedSecret)
    {
        matchedSecret = -1;
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

        var candidates = Candidates(signatureHeader);
        if (candidates.Count == 0)
        {
            // Nothing that could ever match: a sender bug (wrong scheme, truncated header), not a wrong secret.
            return SignatureResult.Malformed;
        }
        var message = SignedMessage(id, timestamp, body);
        Span<byte> expected = stackalloc byte[HashLength];
        for (var k = 0; k < _keys.Length; k++)
        {
            HMACSHA256.HashData(_keys[k], message, expected);
            foreach (var candidate in candidates)
            {
                if (CryptographicOperations.FixedTimeEquals(candidate, expected))
                {
                    matchedSecret = k;
                    return SignatureResult.Valid;
                }
            }
        }
        return SignatureResult.Mismatch;
    }

    /// <summary>
    /// The value of webhook-signature for this message, signed with <paramref name="key"/> (the signing tool's side
    /// of the same construction, so sender and receiver cannot drift apart).
    /// </summary>
    public static string Sign(byte[] key, string id, string timestamp, ReadOnlySpan<byte> body) =>
        "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, SignedMessage(id, timestamp, body)));

    private const int HashLength = 32;

    private static byte[] SignedMessage(string id, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp}.");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return message;
    }

    /// <summary>The well-formed "v1,&lt;base64 of 32 bytes&gt;" entries of the header.</summary>
    private static List<byte[]> Candidates(string signatureHeader)
    {
        var candidates = new List<byte[]>(1);
        Span<byte> decoded = stackalloc byte[64];
        foreach (var part in signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith("v1,", StringComparison.Ordinal)
                && Convert.TryFromBase64String(part[3..], decoded, out var written) && written is HashLength)
            {
                candidates.Add(decoded[..written].ToArray());
            }
        }
        return candidates;
    }
}

internal enum SignatureResult
{
    Valid,
    MissingHeaders,
    BadTimestamp,
    OutsideTolerance,
    /// <summary>No entry of the header is a v1 signature of the right length.</summary>
    Malformed,
    Mismatch,
}
