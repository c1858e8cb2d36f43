using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace WebhookReceiver.Data;

internal sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    /// <summary>Apply EF Core migrations when the process starts (else run the <c>migrate</c> command).</summary>
    public bool MigrateOnStartup { get; set; } = true;
}

internal static class Database
{
    /// <summary>Hangfire's tables live in their own schema of the same database (installed by <see cref="MigrateAsync"/>).</summary>
    public const string HangfireSchema = "hangfire";

    public static IHostApplicationBuilder AddDatabase(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.SectionName);
        var connectionString = builder.Configuration.GetConnectionString("Postgres");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                "ConnectionStrings:Postgres is not set (env ConnectionStrings__Postgres). " +
                "scripts/run.sh starts a local PostgreSQL for you.");
        }
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        // The hot path repeats a handful of statements: let Npgsql prepare them server-side.
        if (csb.MaxAutoPrepare == 0)
        {
            csb.MaxAutoPrepare = 32;
        }
        // Fail fast when PostgreSQL is down so the sender gets its 503 while it still waits.
        if (csb.Timeout == 15)
        {
            csb.Timeout = 5;
        }
        // Returning a connection to the pool otherwise costs a reset round of RESET ALL, UNLISTEN,
        // pg_advisory_unlock_all() and friends on the next command: measured here, a third of the hot path's
        // PostgreSQL CPU. Nothing here leaves session state behind (the jobs' advisory locks are released in
        // finally blocks, and die with a broken connection).
        csb.NoResetOnClose = true;
        csb.ApplicationName ??= "webhookreceiver";
        // Named: Npgsql's pool metrics (README "Metrics") are labelled by this instead of the connection string.
        var dataSourceBuilder = new NpgsqlDataSourceBuilder(csb.ConnectionString) { Name = "webhookreceiver" };
        dataSourceBuilder.ConfigureTracing(Observability.SqlTracing.Configure);
        var dataSource = dataSourceBuilder.Build();
        builder.Services.AddSingleton(dataSource);
        builder.Services.AddDbContext<AppDbContext>(o => o.UseNpgsql(dataSource).UseSnakeCaseNamingConvention());
        builder.Services.AddHostedService<MigrateOnStartup>();
        return builder;
    }

    // Any constant shared by every process of this service: "one migrator at a time".
    private const long MigrationLockKey = 0x5745_4248_4f4f_4b31; // "WEBHOOK1"

    /// <summary>
    /// Refuses a database that cannot hold every event: in any encoding but UTF-8 (SQL_ASCII is what initdb gives
    /// without a UTF-8 locale), text beyond that encoding is refused, and every event carrying it would be answered
    /// 503 and retried by its sender forever.
    /// </summary>
    public static async Task RequireUtf8Async(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var show = new NpgsqlCommand("SHOW server_encoding", connection);
        var encoding = (string?)await show.ExecuteScalarAsync(cancellationToken);
        if (!string.Equals(encoding, "UTF8", StringComparison.OrdinalIgnoreCase))
        {
            throw new DatabaseNotUtf8Exception(connection.Database, encoding ?? "unknown");
        }
    }

    public static async Task MigrateAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await using var connection =
            await scope.ServiceProvider.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(cancellationToken);
        await RequireUtf8Async(connection, cancellationToken);
        // Processes starting together against one database take turns: CREATE SCHEMA IF NOT EXISTS and
        // friends are not safe under concurrency (seen here: 23505 on pg_namespace when two processes started).
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({MigrationLockKey})", connection))
        {
            await take.ExecuteNonQueryAsync(cancellationToken);
        }
        try
        {
            await db.Database.MigrateAsync(cancellationToken);
            // Hangfire's own schema: Hangfire.PostgreSql's installer creates or upgrades it.
            Hangfire.PostgreSql.PostgreSqlObjectsInstaller.Install(connection, HangfireSchema);
        }
        finally
        {
            await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({MigrationLockKey})", connection);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }
}

/// <summary>The database's encoding is not UTF-8: the service must not start on it, nor migrate it.</summary>
internal sealed class DatabaseNotUtf8Exception(string database, string encoding) : Exception(
    $"The database \"{database}\" uses the encoding {encoding}, and WebhookReceiver needs UTF8: events carry any Unicode " +
    $"text, which {encoding} cannot hold. Create a UTF-8 database and point ConnectionStrings__Postgres at it: " +
    "CREATE DATABASE webhookreceiver ENCODING 'UTF8' TEMPLATE template0; (on a server whose default locale is not " +
    "UTF-8, add LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8', or any UTF-8 locale), or initialise the server with " +
    "initdb --encoding=UTF8.");
