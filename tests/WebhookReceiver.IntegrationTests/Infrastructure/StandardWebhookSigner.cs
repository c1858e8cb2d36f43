using System.Security.Cryptography;
using System.Text;

namespace WebhookReceiver.IntegrationTests.Infrastructure;

/// <summary>
/// A sender-side Standard Webhooks signer written for the tests, independent of the service's verifier;
/// checked against the spec's published vector in SigningTests.
/// </summary>
internal static class StandardWebhookSigner
{
    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));

    public static string Sign(string secret, string id, long timestamp, byte[] body)
    {
        using var hmac = new HMACSHA256(Convert.FromBase64String(secret["whsec_".Length..]));
        var signed = hmac.ComputeHash([.. Encoding.UTF8.GetBytes($"{id}.{timestamp}."), .. body]);
        return "v1," + Convert.ToBase64String(signed);
    }
}
