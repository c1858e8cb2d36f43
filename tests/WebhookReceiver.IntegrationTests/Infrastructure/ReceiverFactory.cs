using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;

namespace WebhookReceiver.IntegrationTests.Infrastructure;

/// <summary>
/// The real app on real Kestrel (a loopback port) against its own PostgreSQL database.
/// Settings are applied as configuration, exactly as environment variables would be.
/// </summary>
public class ReceiverFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string BasicUser = "minivoice";
    public const string BasicPassword = "basic-pass-for-tests-only";

    public string Secret { get; } = StandardWebhookSigner.NewSecret();
    public string RotatedSecret { get; } = StandardWebhookSigner.NewSecret();
    public string ConnectionString { get; private set; } = "";
    internal CapturedLogs Logs { get; } = new();
    public IntegrationStub Crm { get; } = new();
    public IntegrationStub Tickets { get; } = new();
    public IntegrationStub MiniVoice { get; } = new();
    public const string MiniVoiceKey = "mv_live_key_for_tests_only_9f8e7d";
    public const string CrmToken = "crm-token-for-tests";
    public const string TicketsToken = "tickets-token-for-tests";
    private readonly Dictionary<string, string?> _settings = new();

    public ReceiverFactory() => UseKestrel(0);

    /// <summary>Overrides for a derived fixture; set before the server starts.</summary>
    protected virtual void Configure(IDictionary<string, string?> settings)
    {
    }

    protected virtual string? DatabaseOverride => null;

    public virtual async Task InitializeAsync()
    {
        await Crm.StartAsync();
        await Tickets.StartAsync();
        await MiniVoice.StartAsync();
        ConnectionString = DatabaseOverride ?? await PostgresServer.CreateDatabaseAsync("wr_test");
        _settings["ConnectionStrings:Postgres"] = ConnectionString;
        _settings["Webhooks:SigningSecrets:0"] = Secret;
        _settings["Webhooks:SigningSecrets:1"] = RotatedSecret;
        _settings["Webhooks:BasicAuth:Username"] = BasicUser;
        _settings["Webhooks:BasicAuth:Password"] = BasicPassword;
        _settings["Webhooks:MaxBodyBytes"] = "262144";
        _settings["Crm:BaseUrl"] = Crm.BaseUrl;
        _settings["Crm:ApiToken"] = CrmToken;
        _settings["Crm:TimeoutSeconds"] = "2";
        _settings["Tickets:BaseUrl"] = Tickets.BaseUrl;
        _settings["Tickets:ApiToken"] = TicketsToken;
        _settings["MiniVoice:BaseUrl"] = MiniVoice.BaseUrl;
        _settings["MiniVoice:ApiKey"] = MiniVoiceKey;
        _settings["MiniVoice:TimeoutSeconds"] = "2";
        // Short retries through configuration, as an operator would set them.
        for (var i = 0; i < 4; i++)
        {
            _settings[$"Jobs:RetryDelaysSeconds:{i}"] = "1";
        }
        _settings["Jobs:RecoveryAfterSeconds"] = "10";
        // Tests of one host share its CRM stub: one test's scripted 5xx must not open the breaker for the others'
        // calls. The breaker has tests of its own (Delivery/DestinationTests), with its default threshold.
        _settings["Crm:Breaker:FailuresToOpen"] = "1000";
        _settings["Tickets:Breaker:FailuresToOpen"] = "1000";
        // Outside Development (this host runs as "Testing") operator endpoints need credentials unless local-only access is
        // chosen explicitly. Most tests act as a local operator over a loopback TCP connection (real Kestrel); fixtures
        // that test credentials set Dashboard:Username/Password, which then apply.
        _settings["Dashboard:AllowLocalWithoutCredentials"] = "true";
        _settings["Logging:Console"] = "false";
        // Capture Debug too: acknowledged webhooks are logged at Debug, and their lines must carry CallId as well.
        _settings["Serilog:MinimumLevel:Default"] = "Debug";
        Configure(_settings);
        StartServer();
    }

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    /// <summary>Stops the host, its stubs, and drops its own database (so <c>await using</c> cleans up everything).</summary>
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Crm.DisposeAsync();
        await Tickets.DisposeAsync();
        await MiniVoice.DisposeAsync();
        if (DatabaseOverride is null && ConnectionString.Length > 0)
        {
            await PostgresServer.DropDatabaseAsync(ConnectionString);
        }
        GC.SuppressFinalize(this);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureServices(services => services.AddSingleton<ILogEventSink>(Logs));
    }

    /// <summary>Posts a body signed with the primary secret (Standard Webhooks headers).</summary>
    public Task<HttpResponseMessage> PostSignedAsync(string json, string? webhookId = null, string? secret = null,
        long? timestamp = null) =>
        PostSignedAsync(Encoding.UTF8.GetBytes(json), webhookId, secret, timestamp);

    public async Task<HttpResponseMessage> PostSignedAsync(byte[] body, string? webhookId = null, string? secret = null,
        long? timestamp = null, string contentType = "application/json")
    {
        var id = webhookId ?? "msg_" + Guid.NewGuid().ToString("N");
        var ts = timestamp ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/minivoice") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", ts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", StandardWebhookSigner.Sign(secret ?? Secret, id, ts, body));
        using var client = CreateClient();
        return await client.SendAsync(request);
    }

    /// <summary>Posts with HTTP Basic credentials (the alternative to signatures); no webhook-id, so identity is the triple.</summary>
    public async Task<HttpResponseMessage> PostBasicAsync(string json, string? contentType = "application/json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/minivoice")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(json)),
        };
        if (contentType is not null)
        {
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        request.Headers.Authorization = BasicHeader(BasicUser, BasicPassword);
        using var client = CreateClient();
        return await client.SendAsync(request);
    }

    public static AuthenticationHeaderValue BasicHeader(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
}

/// <summary>A one-off host: its own settings, optionally on an existing database (to restart "the same" service).</summary>
public sealed class CustomReceiverFactory(string? database, IReadOnlyDictionary<string, string?> overrides) : ReceiverFactory
{
    protected override string? DatabaseOverride => database;

    protected override void Configure(IDictionary<string, string?> settings)
    {
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }
    }
}
