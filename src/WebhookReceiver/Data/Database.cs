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
                "ConnectionStrings:Postgres is not set (env ConnectionStrings__Postgres). scripts/run.sh starts a local PostgreSQL for you.");
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
        var dataSource = new NpgsqlDataSourceBuilder(csb.ConnectionString).Build();
        builder.Services.AddSingleton(dataSource);
        builder.Services.AddDbContext<AppDbContext>(o => o.UseNpgsql(dataSource).UseSnakeCaseNamingConvention());
        builder.Services.AddHostedService<MigrateOnStartup>();
        return builder;
    }

    // Any constant shared by every process of this service: "one migrator at a time".
    private const long MigrationLockKey = 0x5745_4248_4f4f_4b31; // "WEBHOOK1"

    public static async Task MigrateAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await using var connection = await scope.ServiceProvider.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(cancellationToken);
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
