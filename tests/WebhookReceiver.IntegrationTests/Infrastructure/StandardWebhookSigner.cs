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

    /// <summary>A POST /webhooks/minivoice request with fresh Standard Webhooks headers.</summary>
    public static HttpRequestMessage Request(byte[] body, string secret, string? id = null)
    {
        id ??= "msg_" + Guid.NewGuid().ToString("N");
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/minivoice") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", ts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", Sign(secret, id, ts, body));
        return request;
    }

    public static string Sign(string secret, string id, long timestamp, byte[] body)
    {
        using var hmac = new HMACSHA256(Convert.FromBase64String(secret["whsec_".Length..]));
        var signed = hmac.ComputeHash([.. Encoding.UTF8.GetBytes($"{id}.{timestamp}."), .. body]);
        return "v1," + Convert.ToBase64String(signed);
    }
}
