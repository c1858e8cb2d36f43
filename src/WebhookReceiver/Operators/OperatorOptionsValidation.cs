using Microsoft.Extensions.Options;
using WebhookReceiver.Hosting;

namespace WebhookReceiver.Operators;

/// <summary>
/// A process that serves operator endpoints outside Development refuses to start without operator credentials:
/// behind a same-host reverse proxy or a sidecar every request arrives from loopback, so "local requests only"
/// would serve phone numbers and call placing to anyone the proxy lets in. Worker processes serve no operator
/// endpoint and need none; `migrate` never starts the host, so it is not checked.
/// </summary>
internal sealed class OperatorOptionsValidation(IHostEnvironment environment, IConfiguration configuration)
    : IValidateOptions<OperatorOptions>
{
    public const string MissingCredentials =
        "No operator credentials are configured. Set Dashboard__Username and Dashboard__Password (Dashboard:Username / " +
        "Dashboard:Password): /calls, /events, /actions, /console and /hangfire hold phone numbers and change work. To serve " +
        "them without credentials to local requests only (never behind a reverse proxy or sidecar on this host), set " +
        "Dashboard__AllowLocalWithoutCredentials=true (Dashboard:AllowLocalWithoutCredentials).";

    public ValidateOptionsResult Validate(string? name, OperatorOptions options)
    {
        if (!configuration.Role().ServesApi())
        {
            return ValidateOptionsResult.Skip;
        }
        if (string.IsNullOrEmpty(options.Username) != string.IsNullOrEmpty(options.Password))
        {
            return ValidateOptionsResult.Fail("Dashboard needs both Username and Password (Dashboard__Username and Dashboard__Password).");
        }
        return options.IsConfigured || options.AllowLocalWithoutCredentials || environment.IsDevelopment()
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(MissingCredentials);
    }
}
