using System.Diagnostics;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Hosting;

public sealed class MigrateCommandTests
{
    [Fact]
    public async Task The_migrate_argument_creates_the_schema_and_exits()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync("wr_migrate");
        try
        {
            var start = new ProcessStartInfo("dotnet", ["WebhookReceiver.dll", "migrate"])
            {
                WorkingDirectory = AppContext.BaseDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.Environment["ConnectionStrings__Postgres"] = connectionString;
            // Production without operator credentials: migrating needs none (only processes that serve operator endpoints do).
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await process.WaitForExitAsync(timeout.Token);

            Assert.True(process.ExitCode == 0, $"migrate exited {process.ExitCode}: {await output} {await errors}");
            Assert.True(await Db.CountAsync(connectionString, "SELECT count(*) FROM \"__EFMigrationsHistory\"") >= 1);
            Assert.Equal(4, await Db.CountAsync(connectionString,
                "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('calls','webhook_events','quarantined_webhooks','call_actions')"));
            // The set-based ingest's rule functions are in place, the per-event PL/pgSQL it replaced is gone.
            Assert.Equal(4, await Db.CountAsync(connectionString,
                "SELECT count(*) FROM pg_proc WHERE proname IN ('wr_status_wins','wr_variables_merge','wr_items_of','wr_items_append')"));
            Assert.Equal(0, await Db.CountAsync(connectionString, "SELECT count(*) FROM pg_proc WHERE proname = 'wr_ingest_event'"));
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(connectionString);
        }
    }
}
