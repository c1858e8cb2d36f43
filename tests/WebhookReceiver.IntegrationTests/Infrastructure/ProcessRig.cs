namespace WebhookReceiver.IntegrationTests.Infrastructure;

/// <summary>
/// What the multi-process tests share: a fresh database, CRM and ticket stubs, a signing secret, and the
/// environment an <see cref="AppProcess"/> runs with (short recovery and retry times, as an operator may set).
/// </summary>
internal sealed class ProcessRig : IAsyncDisposable
{
    private ProcessRig(string database, IntegrationStub crm, IntegrationStub tickets, int workerCount, int actionsPerJob)
    {
        Database = database;
        Crm = crm;
        Tickets = tickets;
        Environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Postgres"] = database,
            ["Webhooks__SigningSecrets__0"] = Secret,
            ["Crm__BaseUrl"] = crm.BaseUrl,
            ["Tickets__BaseUrl"] = tickets.BaseUrl,
            ["Jobs__WorkerCount"] = workerCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Jobs__ActionsPerJob"] = actionsPerJob.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Jobs__RecoveryAfterSeconds"] = "5",
            ["Jobs__RetryDelaysSeconds__0"] = "1",
            ["Jobs__RetryDelaysSeconds__1"] = "1",
            ["Logging__Console"] = "false",
        };
    }

    public string Database { get; }
    public IntegrationStub Crm { get; }
    public IntegrationStub Tickets { get; }
    public string Secret { get; } = StandardWebhookSigner.NewSecret();
    public IReadOnlyDictionary<string, string?> Environment { get; }

    /// <param name="actionsPerJob">Batch size: a process killed mid-batch repeats at most this many requests per worker.</param>
    public static async Task<ProcessRig> CreateAsync(string databasePrefix, int workerCount, int actionsPerJob = 32)
    {
        var crm = new IntegrationStub();
        var tickets = new IntegrationStub();
        await crm.StartAsync();
        await tickets.StartAsync();
        return new ProcessRig(await PostgresServer.CreateDatabaseAsync(databasePrefix), crm, tickets, workerCount, actionsPerJob);
    }

    public async ValueTask DisposeAsync()
    {
        await Crm.DisposeAsync();
        await Tickets.DisposeAsync();
        // WEBHOOKRECEIVER_KEEP_DB=1 keeps the database for a post-mortem of a failed run.
        if (System.Environment.GetEnvironmentVariable("WEBHOOKRECEIVER_KEEP_DB") != "1")
        {
            await PostgresServer.DropDatabaseAsync(Database);
        }
    }
}
