using Npgsql;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Hosting;

/// <summary>
/// A database that is not UTF-8 (SQL_ASCII is what initdb gives without a UTF-8 locale) cannot hold every event:
/// the service refuses to start on it and <c>migrate</c> refuses to migrate it, saying how to create a UTF-8 one.
/// </summary>
public sealed class DatabaseEncodingTests
{
    [Theory]
    [InlineData("migrate", null)]
    [InlineData("", "true")] // the service, migrating at start (the default)
    [InlineData("", "false")] // the service, with migrations run separately: the encoding is still checked at start
    public async Task On_a_SQL_ASCII_database_it_exits_with_an_error_that_says_how_to_create_a_UTF8_one(
        string command, string? migrateOnStartup)
    {
        var database = await CreateSqlAsciiDatabaseAsync();
        try
        {
            var environment = new Dictionary<string, string?>
            {
                ["ConnectionStrings__Postgres"] = database,
                ["Webhooks__SigningSecrets__0"] = StandardWebhookSigner.NewSecret(),
                ["Dashboard__Username"] = "ops",
                ["Dashboard__Password"] = "operator-password-for-tests",
                ["Database__MigrateOnStartup"] = migrateOnStartup,
            };

            var arguments = command.Length > 0 ? new[] { command } : [];

            var (exitCode, output) = await AppProcess.RunToExitAsync(environment, arguments);

            Assert.True(exitCode != 0, $"exited 0: {output}");
            Assert.Contains("uses the encoding SQL_ASCII", output, StringComparison.Ordinal);
            Assert.Contains("needs UTF8", output, StringComparison.Ordinal);
            Assert.Contains("CREATE DATABASE webhookreceiver ENCODING 'UTF8' TEMPLATE template0", output, StringComparison.Ordinal);
            Assert.Contains("initdb --encoding=UTF8", output, StringComparison.Ordinal);
            // Refused before anything was created in it.
            Assert.Null(await Db.ScalarAsync<string>(database, "SELECT to_regclass('webhook_events')::text"));
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(database);
        }
    }

    private static async Task<string> CreateSqlAsciiDatabaseAsync()
    {
        var admin = await PostgresServer.AdminConnectionStringAsync();
        var name = "wr_ascii_" + Guid.NewGuid().ToString("N");
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand(
            $"CREATE DATABASE \"{name}\" ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0", connection);
        await create.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
    }
}
