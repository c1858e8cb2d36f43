using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Webhooks;

public sealed class StandardWebhookVerifierTests
{
    // The Standard Webhooks specification's published test vector.
    private const string VectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string VectorId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private const long VectorTimestamp = 1614265330;
    private const string VectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    private static readonly byte[] VectorBody = Encoding.UTF8.GetBytes("{\"test\": 2432232314}");

    private static readonly string SecretA = "whsec_" + Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private static readonly string SecretB = "whsec_" + Convert.ToBase64String(Enumerable.Range(100, 32).Select(i => (byte)i).ToArray());
    private static readonly string SecretC = "whsec_" + Convert.ToBase64String(Enumerable.Range(200, 24).Select(i => (byte)i).ToArray());

    private static readonly TimeSpan Tolerance = TimeSpan.FromSeconds(300);

    private static StandardWebhookVerifier Verifier(params string[] secrets) =>
        new(secrets, Tolerance, new FixedClock(VectorTimestamp));

    private static string Ts(long unixSeconds) => unixSeconds.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public void Published_spec_vector_is_valid()
    {
        var result = Verifier(VectorSecret).Verify(VectorId, Ts(VectorTimestamp), VectorSignature, VectorBody);

        Assert.Equal(SignatureResult.Valid, result);
    }

    [Fact]
    public void Test_signer_agrees_with_the_published_vector()
    {
        // Guards the independent oracle used by the other tests.
        Assert.Equal(VectorSignature, TestSigner.Sign(VectorSecret, VectorId, Ts(VectorTimestamp), VectorBody));
    }

    [Fact]
    public void Spec_vector_with_one_body_byte_changed_is_a_mismatch()
    {
        var body = (byte[])VectorBody.Clone();
        body[^2] ^= 0x01; // "...2314}" -> "...2315}"

        var result = Verifier(VectorSecret).Verify(VectorId, Ts(VectorTimestamp), VectorSignature, body);

        Assert.Equal(SignatureResult.Mismatch, result);
    }

    [Fact]
    public void Spec_vector_under_another_message_id_is_a_mismatch()
    {
        var result = Verifier(VectorSecret).Verify("msg_other", Ts(VectorTimestamp), VectorSignature, VectorBody);

        Assert.Equal(SignatureResult.Mismatch, result);
    }

    [Fact]
    public void Signature_made_for_another_timestamp_within_tolerance_is_a_mismatch()
    {
        var header = TestSigner.Sign(SecretA, VectorId, Ts(VectorTimestamp - 10), VectorBody);

        var result = Verifier(SecretA).Verify(VectorId, Ts(VectorTimestamp), header, VectorBody);

        Assert.Equal(SignatureResult.Mismatch, result);
    }

    [Fact]
    public void Header_with_several_signatures_where_only_the_last_is_right_is_valid()
    {
        var wrong1 = TestSigner.Sign(SecretB, VectorId, Ts(VectorTimestamp), VectorBody);
        var wrong2 = "v1," + Convert.ToBase64String(new byte[32]);
        var header = $"{wrong1} {wrong2} {VectorSignature}";

        var result = Verifier(VectorSecret).Verify(VectorId, Ts(VectorTimestamp), header, VectorBody);

        Assert.Equal(SignatureResult.Valid, result);
    }

    [Fact]
    public void Header_with_several_signatures_none_right_is_a_mismatch()
    {
        var wrong1 = TestSigner.Sign(SecretB, VectorId, Ts(VectorTimestamp), VectorBody);
        var wrong2 = "v1," + Convert.ToBase64String(new byte[32]);

        var result = Verifier(VectorSecret).Verify(VectorId, Ts(VectorTimestamp), $"{wrong1} {wrong2}", VectorBody);

        Assert.Equal(SignatureResult.Mismatch, result);
    }

    [Fact]
    public void Rotated_secret_second_in_the_list_verifies_a_signature_made_with_it()
    {
        var header = TestSigner.Sign(SecretB, VectorId, Ts(VectorTimestamp), VectorBody);

        var result = Verifier(SecretA, SecretB).Verify(VectorId, Ts(VectorTimestamp), header, VectorBody);

        Assert.Equal(SignatureResult.Valid, result);
    }

    [Fact]
    public void Signature_made_with_a_secret_not_in_the_list_is_a_mismatch()
    {
        var header = TestSigner.Sign(SecretC, VectorId, Ts(VectorTimestamp), VectorBody);

        var result = Verifier(SecretA, SecretB).Verify(VectorId, Ts(VectorTimestamp), header, VectorBody);

        Assert.Equal(SignatureResult.Mismatch, result);
    }

    [Theory]
    [InlineData(-301)]
    [InlineData(301)]
    [InlineData(-86_400)]
    [InlineData(86_400)]
    public void Correctly_signed_timestamp_more_than_300_seconds_from_now_is_outside_tolerance(long offsetSeconds)
    {
        var timestamp = Ts(VectorTimestamp + offsetSeconds);
        var header = TestSigner.Sign(SecretA, VectorId, timestamp, VectorBody);

        var result = Verifier(SecretA).Verify(VectorId, timestamp, header, VectorBody);

        Assert.Equal(SignatureResult.OutsideTolerance, result);
    }

    [Theory]
    [InlineData(-299)]
    [InlineData(299)]
    [InlineData(-300)]
    [InlineData(300)]
    [InlineData(0)]
    public void Correctly_signed_timestamp_within_300_seconds_of_now_is_valid(long offsetSeconds)
    {
        var timestamp = Ts(VectorTimestamp + offsetSeconds);
        var header = TestSigner.Sign(SecretA, VectorId, timestamp, VectorBody);

        var result = Verifier(SecretA).Verify(VectorId, timestamp, header, VectorBody);

        Assert.Equal(SignatureResult.Valid, result);
    }

    [Theory]
    [InlineData(null, "1614265330", VectorSignature)]
    [InlineData("", "1614265330", VectorSignature)]
    [InlineData(VectorId, null, VectorSignature)]
    [InlineData(VectorId, "", VectorSignature)]
    [InlineData(VectorId, "1614265330", null)]
    [InlineData(VectorId, "1614265330", "")]
    [InlineData(null, null, null)]
    public void Missing_id_timestamp_or_signature_is_reported_as_missing_headers(string? id, string? timestamp, string? signature)
    {
        var result = Verifier(VectorSecret).Verify(id, timestamp, signature, VectorBody);

        Assert.Equal(SignatureResult.MissingHeaders, result);
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("1614265330.0")]
    [InlineData("-1614265330")]
    [InlineData("+1614265330")]
    [InlineData(" 1614265330")]
    [InlineData("1.6e9")]
    [InlineData("99999999999999999999999")]
    public void Non_numeric_timestamp_is_a_bad_timestamp(string timestamp)
    {
        var result = Verifier(VectorSecret).Verify(VectorId, timestamp, VectorSignature, VectorBody);

        Assert.Equal(SignatureResult.BadTimestamp, result);
    }

    [Fact]
    public void Right_signature_under_a_v2_scheme_is_malformed()
    {
        var header = "v2," + VectorSignature["v1,".Length..];

        var result = Verifier(VectorSecret).Verify(VectorId, Ts(VectorTimestamp), header, VectorBody);

        Assert.Equal(SignatureResult.Malformed, result);
    }

    [Theory]
    [InlineData("v1,!!!not-base64!!!")]
    [InlineData("v1,")]
    [InlineData("v1")]
    [InlineData("garbage")]
    [InlineData("v1,AAAA")]
    [InlineData("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")]
    public void Garbage_signature_is_malformed(string header)
    {
        var result = Verifier(VectorSecret).Verify(VectorId, Ts(VectorTimestamp), header, VectorBody);

        Assert.Equal(SignatureResult.Malformed, result);
    }

    [Fact]
    public void Signature_truncated_to_16_bytes_is_malformed()
    {
        var full = Convert.FromBase64String(VectorSignature["v1,".Length..]);
        var header = "v1," + Convert.ToBase64String(full[..16]);

        var result = Verifier(VectorSecret).Verify(VectorId, Ts(VectorTimestamp), header, VectorBody);

        Assert.Equal(SignatureResult.Malformed, result);
    }

    [Fact]
    public void The_position_of_the_matching_secret_is_reported()
    {
        var header = TestSigner.Sign(SecretB, VectorId, Ts(VectorTimestamp), VectorBody);

        var result = Verifier(SecretA, SecretB).Verify(VectorId, Ts(VectorTimestamp), header, VectorBody, out var matched);

        Assert.Equal(SignatureResult.Valid, result);
        Assert.Equal(1, matched);
    }

    [Fact]
    public void The_services_own_Sign_produces_the_specs_published_vector()
    {
        Assert.True(SigningSecret.TryDecode(VectorSecret, out var key));

        Assert.Equal(VectorSignature, StandardWebhookVerifier.Sign(key, VectorId, Ts(VectorTimestamp), VectorBody));
    }

    [Fact]
    public void Invalid_signing_secret_is_refused_at_construction()
    {
        Assert.Throws<ArgumentException>(
            () => new StandardWebhookVerifier(["whsec_not base64!"], Tolerance, new FixedClock(VectorTimestamp)));
    }

    [Fact]
    public void Verifier_without_secrets_is_not_configured_and_one_with_a_secret_is()
    {
        Assert.False(new StandardWebhookVerifier([], Tolerance, new FixedClock(VectorTimestamp)).IsConfigured);
        Assert.True(Verifier(VectorSecret).IsConfigured);
    }

    /// <summary>A clock stopped at a given Unix time.</summary>
    private sealed class FixedClock(long unixSeconds) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeSeconds(unixSeconds);
    }

    /// <summary>Independent Standard Webhooks signer: HMAC-SHA256 over "id.timestamp.body", base64, "v1," prefix.</summary>
    private static class TestSigner
    {
        public static string Sign(string secret, string id, string timestamp, byte[] body)
        {
            var key = Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret[6..] : secret);
            var message = Encoding.UTF8.GetBytes($"{id}.{timestamp}.").Concat(body).ToArray();
            using var hmac = new HMACSHA256(key);
            return "v1," + Convert.ToBase64String(hmac.ComputeHash(message));
        }
    }
}
