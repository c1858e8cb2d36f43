using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Webhooks;

public sealed class SigningSecretTests
{
    private static readonly byte[] Key = [0x31, 0xF2, 0x90, 0xF6, 0xBF, 0x06, 0x29, 0x8A, 0xAF, 0x0E, 0xE5, 0x4F];

    [Fact]
    public void Secret_with_whsec_prefix_decodes_to_its_key_bytes()
    {
        Assert.True(SigningSecret.TryDecode("whsec_" + Convert.ToBase64String(Key), out var key));
        Assert.Equal(Key, key);
    }

    [Fact]
    public void Bare_base64_secret_without_prefix_decodes_to_the_same_key_bytes()
    {
        Assert.True(SigningSecret.TryDecode(Convert.ToBase64String(Key), out var key));
        Assert.Equal(Key, key);
    }

    [Fact]
    public void Published_spec_secret_decodes_to_24_bytes()
    {
        Assert.True(SigningSecret.TryDecode("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", out var key));
        Assert.Equal(24, key.Length);
    }

    [Theory]
    [InlineData("whsec_not base64!")]
    [InlineData("whsec_abc")]
    [InlineData("%%%%")]
    [InlineData("")]
    [InlineData("whsec_")]
    public void Invalid_or_empty_secret_is_refused(string secret)
    {
        Assert.False(SigningSecret.TryDecode(secret, out var key));
        Assert.Empty(key);
    }
}
