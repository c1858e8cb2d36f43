using Microsoft.Extensions.Options;

namespace WebhookReceiver.Data;

/// <summary>Applies migrations before the server takes requests, unless Database:MigrateOnStartup is false.</summary>
internal sealed class MigrateOnStartup(IServiceProvider services, IOptions<DatabaseOptions> options, ILogger<MigrateOnStartup> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.MigrateOnStartup)
        {
            logger.LogInformation("Database:MigrateOnStartup is false: expecting the schema to be migrated already");
            return;
        }
        await Database.MigrateAsync(services, cancellationToken);
        logger.LogInformation("Database schema is up to date");
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
