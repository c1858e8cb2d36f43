using System.ComponentModel.DataAnnotations;

namespace WebhookReceiver.Webhooks;

internal sealed class WebhookOptions : IValidatableObject
{
    public const string SectionName = "Webhooks";

    [Range(1024, 64 * 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 262_144;

    [Range(1, 86_400)]
    public int TimestampToleranceSeconds { get; set; } = 300;

    /// <summary>Standard Webhooks secrets (<c>whsec_</c> + base64). Several are accepted so a secret can be rotated.</summary>
    public List<string> SigningSecrets { get; set; } = [];

    public BasicAuthOptions BasicAuth { get; set; } = new();

    /// <summary>Local development only: accept unauthenticated webhooks.</summary>
    public bool AllowUnauthenticated { get; set; }

    /// <summary>Bodies longer than this are quarantined truncated, so a flood of bad input cannot fill the disk.</summary>
    [Range(0, 64 * 1024 * 1024)]
    public int QuarantineMaxBodyBytes { get; set; } = 262_144;

    /// <summary>
    /// Keep each accepted event's request headers of interest (<see cref="KeptHeaders"/>: content type, user agent,
    /// webhook-id and timestamp, forwarded-for, how it was authenticated). Off: nothing is kept (forwarded-for is an
    /// IP address, personal data in some places).
    /// </summary>
    public bool KeepRequestHeaders { get; set; } = true;

    /// <summary>Sent as <c>Retry-After</c> when PostgreSQL cannot take the event.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 5;

    /// <summary>Connections that store events concurrently, each committing a batch at a time.</summary>
    [Range(1, 64)]
    public int IngestWriters { get; set; } = 4;

    /// <summary>Most events one commit may hold.</summary>
    [Range(1, 1000)]
    public int IngestBatchSize { get; set; } = 64;

    /// <summary>Events waiting for a writer beyond this are answered 503 (PostgreSQL cannot keep up).</summary>
    [Range(1, 1_000_000)]
    public int IngestQueueLimit { get; set; } = 10_000;

    public IEnumerable<string> ConfiguredSecrets => SigningSecrets.Where(s => !string.IsNullOrWhiteSpace(s));

    public bool HasAuthentication => ConfiguredSecrets.Any() || BasicAuth.IsConfigured;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!HasAuthentication && !AllowUnauthenticated)
        {
            yield return new ValidationResult(
                "No webhook authentication is configured. Set Webhooks:SigningSecrets (e.g. env Webhooks__SigningSecrets__0=whsec_...) " +
                "or Webhooks:BasicAuth:Username/Password; Webhooks:AllowUnauthenticated=true is for local development only.");
        }
        foreach (var secret in ConfiguredSecrets)
        {
            if (SigningSecret.IsPlaceholder(secret))
            {
                yield return new ValidationResult(
                    "A Webhooks:SigningSecrets entry is still the placeholder from .env.example: replace WEBHOOK_SIGNING_SECRET " +
                    "(env Webhooks__SigningSecrets__0) with the secret MiniVoice shows for your endpoint, or a new one made with " +
                    "echo \"whsec_$(head -c 24 /dev/urandom | base64)\" and given to MiniVoice.");
            }
            else if (!SigningSecret.TryDecode(secret, out _))
            {
                // Never echo the secret itself.
                yield return new ValidationResult("A Webhooks:SigningSecrets entry is not a valid 'whsec_' + base64 secret.");
            }
        }
        if (string.IsNullOrEmpty(BasicAuth.Username) != string.IsNullOrEmpty(BasicAuth.Password))
        {
            yield return new ValidationResult("Webhooks:BasicAuth needs both Username and Password.");
        }
    }
}

internal sealed class BasicAuthOptions
{
    public string? Username { get; set; }
    public string? Password { get; set; }
    public bool IsConfigured => !string.IsNullOrEmpty(Username) && !string.IsNullOrEmpty(Password);
}
