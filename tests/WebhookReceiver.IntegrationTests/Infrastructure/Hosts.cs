namespace WebhookReceiver.IntegrationTests.Infrastructure;

/// <summary>Hosts of a test's own: one started on a database (or a fresh one), and a database that lives for one test.</summary>
internal static class Hosts
{
    /// <param name="database">An existing database (a second process of "the same" service), or null for a fresh one.</param>
    public static async Task<CustomReceiverFactory> StartAsync(string? database, IReadOnlyDictionary<string, string?> settings)
    {
        var factory = new CustomReceiverFactory(database, settings);
        await factory.InitializeAsync();
        return factory;
    }

    /// <summary>Runs the test against a database of its own, dropped afterwards whatever happens.</summary>
    public static async Task WithDatabaseAsync(string name, Func<string, Task> test)
    {
        var database = await PostgresServer.CreateDatabaseAsync(name);
        try
        {
            await test(database);
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(database);
        }
    }
}
