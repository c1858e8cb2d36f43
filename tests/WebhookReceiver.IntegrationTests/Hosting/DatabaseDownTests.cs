using System.Net;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Hosting;

/// <summary>PostgreSQL unreachable: never a 2xx, always 503 + Retry-After, and readiness says so.</summary>
public sealed class DatabaseDownTests : IClassFixture<DatabaseDownTests.NoDatabaseFactory>
{
    private readonly NoDatabaseFactory _app;

    public DatabaseDownTests(NoDatabaseFactory app) => _app = app;

    public sealed class NoDatabaseFactory : ReceiverFactory
    {
        protected override string? DatabaseOverride { get; } =
            $"Host=127.0.0.1;Port={Ports.Free()};Username=postgres;Password=postgres;Database=nowhere;Timeout=2";

        protected override void Configure(IDictionary<string, string?> settings)
        {
            settings["Database:MigrateOnStartup"] = "false";
            settings["Role"] = "api";
        }
    }

    [Fact]
    public async Task A_valid_event_gets_503_with_retry_after_when_postgres_is_down()
    {
        using var response = await _app.PostSignedAsync(MiniVoiceEvents.Event(MiniVoiceEvents.NewCallId(), "call.completed", "completed", DateTimeOffset.UtcNow));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_invalid_body_gets_503_too_when_its_quarantine_row_cannot_be_written()
    {
        using var response = await _app.PostSignedAsync("{not json");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task Readiness_fails_while_liveness_holds()
    {
        using var client = _app.CreateClient();

        using var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        using var live = await client.GetAsync(new Uri("/health/live", UriKind.Relative));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }
}
