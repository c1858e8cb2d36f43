using Npgsql;
using Testcontainers.PostgreSql;

namespace WebhookReceiver.IntegrationTests.Infrastructure;

/// <summary>
/// The PostgreSQL server the tests use: the one named by WEBHOOKRECEIVER_TEST_POSTGRES (scripts/test.sh and
/// .ci/run start a throwaway local server and set it), else a Testcontainers container when a Docker engine answers.
/// Each fixture then creates its own database on it.
/// </summary>
internal static class PostgresServer
{
    public const string EnvironmentVariable = "WEBHOOKRECEIVER_TEST_POSTGRES";

    private const string RunLabelVariable = "WEBHOOKRECEIVER_TEST_RUN";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? _adminConnectionString;
    private static PostgreSqlContainer? _container;

    public static async Task<string> AdminConnectionStringAsync()
    {
        await Gate.WaitAsync();
        try
        {
            return _adminConnectionString ??= await ResolveAsync();
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Creates an empty database and returns a connection string to it.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix)
    {
        var admin = await AdminConnectionStringAsync();
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 33, 63)].ToLowerInvariant();
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(admin) { Database = name, Pooling = true }.ConnectionString;
    }

    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(await AdminConnectionStringAsync());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    private static void RemoveContainer()
    {
        try
        {
            _container?.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(20));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"Could not remove the test PostgreSQL container: {ex.Message}");
        }
    }

    private static async Task<string> ResolveAsync()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return fromEnvironment;
        }
        try
        {
            var builder = new PostgreSqlBuilder("postgres:15-alpine");
            // scripts/test.sh removes its run's containers by this label when it ends (a reaper may be absent).
            if (Environment.GetEnvironmentVariable(RunLabelVariable) is { Length: > 0 } run)
            {
                builder = builder.WithLabel("org.webhookreceiver.test-run", run);
            }
            _container = builder.Build();
            // Without Testcontainers' reaper (Ryuk) nothing else removes the container when the test host exits.
            AppDomain.CurrentDomain.ProcessExit += (_, _) => RemoveContainer();
            await _container.StartAsync();
            return _container.GetConnectionString();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new InvalidOperationException(
                $"No PostgreSQL for the integration tests: {EnvironmentVariable} is not set and no Docker engine answered " +
                $"for Testcontainers ({ex.GetType().Name}: {ex.Message}). Run ./scripts/test.sh, which starts a throwaway " +
                $"local PostgreSQL, or set {EnvironmentVariable} to an admin connection string " +
                "(e.g. Host=127.0.0.1;Port=5432;Username=postgres;Password=postgres).", ex);
        }
    }
}
