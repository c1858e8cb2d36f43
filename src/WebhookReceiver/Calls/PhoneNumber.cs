namespace WebhookReceiver.Calls;

/// <summary>The one E.164-like rule for numbers, whether they arrive in a webhook or in POST /calls.</summary>
internal static partial class PhoneNumber
{
    [System.Text.RegularExpressions.GeneratedRegex(@"^\+?[1-9][0-9]{1,14}\z")]
    public static partial System.Text.RegularExpressions.Regex E164();
}
