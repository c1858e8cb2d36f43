using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using CsCheck;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Reliability;

/// <summary>
/// Properties of the two credential checks over generated inputs (the example-based tests sit in Webhooks/):
/// what must verify does, any change refuses, and no input makes them throw.
/// </summary>
public sealed class CredentialPropertyTests
{
    private const long Now = 1_780_056_000; // 2026-05-29T12:00:00Z
    private const int Tolerance = 300;
    private static readonly string[] Secrets = [NewSecret(1), NewSecret(2)];

    private static readonly Gen<string> WebhookId =
        Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789_-.:"].Array[1, 64].Select(c => new string(c));
    private static readonly Gen<byte[]> Body = Gen.Byte.Array[0, 2048];
    private static readonly Gen<int> InTolerance = Gen.Int[-Tolerance, Tolerance];
    private static readonly Gen<string> WellFormedText =
        Gen.Char.Where(c => !char.IsSurrogate(c)).Array[0, 40].Select(c => new string(c));

    private static StandardWebhookVerifier Verifier() => new(Secrets, TimeSpan.FromSeconds(Tolerance), new FixedClock(Now));

    [Fact]
    public void Any_message_signed_with_any_configured_secret_within_the_tolerance_verifies()
    {
        Gen.Select(WebhookId, Body, InTolerance, Gen.Int[0, 1]).Sample((id, body, offset, secret) =>
        {
            var ts = Now + offset;
            var result = Verifier().Verify(id, Ts(ts), Sign(Secrets[secret], id, ts, body), body);
            Assert.Equal(SignatureResult.Valid, result);
        });
    }

    [Fact]
    public void Any_single_bit_flipped_in_the_body_is_a_mismatch()
    {
        Gen.Select(WebhookId, Gen.Byte.Array[1, 2048], Gen.Int[0, int.MaxValue], Gen.Int[0, 7]).Sample((id, body, at, bit) =>
        {
            var signature = Sign(Secrets[0], id, Now, body);
            var tampered = (byte[])body.Clone();
            tampered[at % tampered.Length] ^= (byte)(1 << bit);
            Assert.Equal(SignatureResult.Mismatch, Verifier().Verify(id, Ts(Now), signature, tampered));
        });
    }

    [Fact]
    public void A_signature_moved_to_another_id_or_timestamp_is_a_mismatch()
    {
        Gen.Select(WebhookId, WebhookId, Body, InTolerance).Where((id, other, _, _) => id != other).Sample((id, other, body, offset) =>
        {
            var signature = Sign(Secrets[0], id, Now, body);
            Assert.Equal(SignatureResult.Mismatch, Verifier().Verify(other, Ts(Now), signature, body));
            if (offset != 0)
            {
                Assert.Equal(SignatureResult.Mismatch, Verifier().Verify(id, Ts(Now + offset), signature, body));
            }
        });
    }

    [Fact]
    public void Outside_the_tolerance_is_refused_even_when_correctly_signed()
    {
        var beyond = Gen.Select(Gen.Int[Tolerance + 1, 1_000_000_000], Gen.Bool, (d, past) => past ? -(long)d : d);
        Gen.Select(WebhookId, Body, beyond).Sample((id, body, offset) =>
        {
            var ts = Now + offset;
            Assert.Equal(SignatureResult.OutsideTolerance, Verifier().Verify(id, Ts(ts), Sign(Secrets[0], id, ts, body), body));
        });
    }

    [Fact]
    public void The_right_signature_anywhere_among_forged_ones_verifies_and_forged_ones_alone_do_not()
    {
        var forged = Gen.Byte.Array[32].Select(b => "v1," + Convert.ToBase64String(b)).Array[0, 8];
        Gen.Select(WebhookId, Body, forged, Gen.Int[0, int.MaxValue]).Sample((id, body, fakes, at) =>
        {
            var entries = fakes.ToList();
            // "v1,x" alone cannot be a signature at all: malformed, not a mismatch.
            Assert.Equal(entries.Count == 0 ? SignatureResult.Malformed : SignatureResult.Mismatch,
                Verifier().Verify(id, Ts(Now), string.Join(' ', entries.Append("v1,x")), body));
            entries.Insert(at % (entries.Count + 1), Sign(Secrets[1], id, Now, body));
            Assert.Equal(SignatureResult.Valid, Verifier().Verify(id, Ts(Now), string.Join(' ', entries), body));
        });
    }

    [Fact]
    public void Arbitrary_signature_headers_never_throw_and_never_verify()
    {
        Gen.Select(Gen.String, Gen.String, Gen.String, Body).Sample((id, ts, signature, body) =>
        {
            Assert.NotEqual(SignatureResult.Valid, Verifier().Verify(id, ts, signature, body));
            Assert.NotEqual(SignatureResult.Valid, Verifier().Verify(id, Ts(Now), "v1," + signature, body));
        });
    }

    [Fact]
    public void Basic_credentials_match_exactly_the_configured_pair()
    {
        var user = WellFormedText.Where(u => u.Length > 0 && !u.Contains(':', StringComparison.Ordinal));
        Gen.Select(user, WellFormedText.Where(p => p.Length > 0), user, WellFormedText).Sample((u, p, otherUser, otherPassword) =>
        {
            var credentials = new BasicCredentials(u, p);
            Assert.True(credentials.Matches(Header(u, p)));
            Assert.Equal(otherUser == u && otherPassword == p, credentials.Matches(Header(otherUser, otherPassword)));
            Assert.False(credentials.Matches(Header(u, p + "x")));
            Assert.False(credentials.Matches(Header(u, p[..^1])));
        });
    }

    [Fact]
    public void Arbitrary_authorization_headers_never_throw()
    {
        var credentials = new BasicCredentials("minivoice", "basic-pass");
        var base64 = Gen.Byte.Array[0, 64].Select(b => "Basic " + Convert.ToBase64String(b));
        Gen.OneOf(Gen.String, base64, Gen.String.Select(s => "Basic " + s)).Sample(header => Assert.False(credentials.Matches(header)));
    }

    private static string Header(string user, string password) =>
        new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"))).ToString();

    private static string Ts(long unixSeconds) => unixSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>An independent Standard Webhooks signer (sender side).</summary>
    private static string Sign(string secret, string id, long timestamp, byte[] body)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, (byte[])[.. Encoding.UTF8.GetBytes($"{id}.{timestamp}."), .. body]));
    }

    private static string NewSecret(byte seed) => "whsec_" + Convert.ToBase64String(SHA256.HashData([seed]));

    private sealed class FixedClock(long unixSeconds) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeSeconds(unixSeconds);
    }
}
