using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;
using WebhookReceiver.Data;

namespace WebhookReceiver.IntegrationTests.Infrastructure;

/// <summary>Direct reads of what the service stored, to assert on the database rather than on its answers.</summary>
internal static class Db
{
    public static async Task<long> CountAsync(string connectionString, string sql, params object[] args)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var arg in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = arg });
        }
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static async Task<T?> ScalarAsync<T>(string connectionString, string sql, params object[] args)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var arg in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = arg });
        }
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? default : (T)value;
    }

    public static async Task ExecuteAsync(string connectionString, string sql, params object[] args)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var arg in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = arg });
        }
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Migrates the schema with EF Core alone (no host). <paramref name="target"/>: a migration's full name, or null for the newest.</summary>
    public static async Task MigrateAsync(string connectionString, string? target = null)
    {
        await using var db = new AppDbContext(new DbContextOptionsBuilder<AppDbContext>()
            .UseNpgsql(connectionString).UseSnakeCaseNamingConvention().Options);
        await db.GetService<IMigrator>().MigrateAsync(target);
    }

    /// <summary>Rows anywhere in the service's tables that mention this call id (events, calls, quarantine).</summary>
    public static Task<long> RowsMentioningAsync(string connectionString, string callId) => CountAsync(connectionString,
        "SELECT (SELECT count(*) FROM webhook_events WHERE call_id = $1) + (SELECT count(*) FROM calls WHERE id = $1) " +
        "+ (SELECT count(*) FROM quarantined_webhooks WHERE position(convert_to($1, 'UTF8') in raw_body) > 0)", callId);
}

[CollectionDefinition(Name)]
public sealed class ReceiverCollection : ICollectionFixture<ReceiverFactory>
{
    public const string Name = "receiver";
}
