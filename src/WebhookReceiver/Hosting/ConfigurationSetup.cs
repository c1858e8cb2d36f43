using Microsoft.Extensions.Configuration.Json;

namespace WebhookReceiver.Hosting;

internal static class ConfigurationSetup
{
    /// <summary>
    /// The repository-root appsettings.json is copied next to the binary. Load it from there as the lowest layer,
    /// so it applies whatever the working directory; appsettings.{Environment}.json, environment variables
    /// (ConnectionStrings__Postgres, Webhooks__SigningSecrets__0, ...) and arguments still override it.
    /// </summary>
    public static IHostApplicationBuilder AddRootAppSettings(this IHostApplicationBuilder builder)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        var sources = builder.Configuration.Sources;
        var firstJson = sources.Select((s, i) => (s, i)).FirstOrDefault(x => x.s is JsonConfigurationSource).i;
        var source = new JsonConfigurationSource { Path = path, Optional = true, ReloadOnChange = false };
        source.ResolveFileProvider();
        sources.Insert(firstJson, source);
        return builder;
    }
}
