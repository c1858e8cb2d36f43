using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using WebhookReceiver.Operators;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Hosting;

internal static class StartupLog
{
    /// <summary>One clear line at start: version, URLs, and how webhooks are authenticated (never the secrets).</summary>
    public static WebApplication LogStartup(this WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("WebhookReceiver");
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var webhooks = app.Services.GetRequiredService<IOptions<WebhookOptions>>().Value;
            logger.LogInformation(
                "WebhookReceiver {Version} as {Role} listening on {Urls}; " +
                "webhook auth: {SecretCount} signing secret(s), basic auth {BasicAuth}",
                typeof(StartupLog).Assembly.GetName().Version, app.Configuration.Role(), string.Join(", ", addresses),
                webhooks.ConfiguredSecrets.Count(), webhooks.BasicAuth.IsConfigured ? "on" : "off");
            if (!webhooks.HasAuthentication && webhooks.AllowUnauthenticated)
            {
                logger.LogWarning("Webhooks:AllowUnauthenticated=true: ANYONE can post events. Use this for local development only.");
            }
            if (app.Configuration.Role().ServesApi() && !app.Services.GetRequiredService<IOptions<OperatorOptions>>().Value.IsConfigured)
            {
                logger.LogWarning("No Dashboard:Username/Password: operator endpoints answer local requests only (a loopback " +
                                  "connection with no forwarding header), without a login.");
            }
        });
        return app;
    }
}
