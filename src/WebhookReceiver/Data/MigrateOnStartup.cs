using Microsoft.Extensions.Options;
using Npgsql;

namespace WebhookReceiver.Data;

/// <summary>
/// Before the server takes requests: checks that the database is UTF-8 and applies migrations, unless
/// Database:MigrateOnStartup is false; then only the encoding is checked (the <c>migrate</c> command checks it too).
/// </summary>
internal sealed class MigrateOnStartup(
    IServiceProvider services, NpgsqlDataSource dataSource, IOptions<DatabaseOptions> options, ILogger<MigrateOnStartup> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!options.Value.MigrateOnStartup)
            {
                logger.LogInformation("Database:MigrateOnStartup is false: expecting the schema to be migrated already");
                await CheckEncodingAsync(cancellationToken);
                return;
            }
            await Database.MigrateAsync(services, cancellationToken);
            logger.LogInformation("Database schema is up to date");
        }
        catch (DatabaseNotUtf8Exception ex)
        {
            logger.LogCritical("Refusing to start: {Error}", ex.Message);
            throw;
        }
    }

    /// <summary>
    /// Without migrations the service starts even while PostgreSQL is down (answering 503 until it is back), so an
    /// unreachable database is not a reason to refuse: only a reachable one that is not UTF-8 is.
    /// </summary>
    private async Task CheckEncodingAsync(CancellationToken cancellationToken)
    {
        NpgsqlConnection connection;
        try
        {
            connection = await dataSource.OpenConnectionAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            logger.LogWarning("PostgreSQL is unreachable at start ({Error}); its encoding (UTF8 required) was not checked", ex.Message);
            return;
        }
        await using (connection)
        {
            await Database.RequireUtf8Async(connection, cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
