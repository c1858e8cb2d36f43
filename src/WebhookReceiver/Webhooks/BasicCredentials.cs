using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace WebhookReceiver.Webhooks;

/// <summary>HTTP Basic credentials compared in constant time (hashing first makes lengths equal too).</summary>
internal sealed class BasicCredentials(string username, string password)
{
    private readonly byte[] _user = SHA256.HashData(Encoding.UTF8.GetBytes(username));
    private readonly byte[] _pass = SHA256.HashData(Encoding.UTF8.GetBytes(password));

    public bool Matches(string? authorizationHeader)
    {
        if (!AuthenticationHeaderValue.TryParse(authorizationHeader, out var header)
            || !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            || header.Parameter is null)
        {
            return false;
        }
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
        }
        catch (FormatException)
        {
            return false;
        }
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return false;
        }
        var userOk = CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(decoded[..colon])), _user);
        var passOk = CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(decoded[(colon + 1)..])), _pass);
        return userOk & passOk;
    }
}
