namespace WebhookReceiver.Webhooks;

internal static class SigningSecret
{
    private const string Prefix = "whsec_";

    /// <summary>
    /// The marker of a sample value (`.env.example`: whsec_REPLACE_WITH_BASE64_SECRET): a deployment that kept it must be
    /// told to replace it, not that its base64 is wrong.
    /// </summary>
    public static bool IsPlaceholder(string secret) => secret.Contains("REPLACE", StringComparison.OrdinalIgnoreCase);

    /// <summary>Decodes a Standard Webhooks secret; the prefix is optional as some senders hand out bare base64.</summary>
    public static bool TryDecode(string secret, out byte[] key)
    {
        var encoded = secret.StartsWith(Prefix, StringComparison.Ordinal) ? secret[Prefix.Length..] : secret;
        try
        {
            key = Convert.FromBase64String(encoded);
            return key.Length > 0;
        }
        catch (FormatException)
        {
            key = [];
            return false;
        }
    }
}
