using System.Net;
using System.Text.Json;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Reliability;

/// <summary>
/// A corpus of hostile requests (<see cref="HostileCorpus"/>) over real HTTP against real PostgreSQL: each bad
/// one gets its exact 4xx (never 2xx, never 5xx) and the service stays healthy; hostile-looking but valid
/// events are accepted and stored verbatim without harm.
/// </summary>
[Collection(ReceiverCollection.Name)]
public sealed class HostileInputTests(ReceiverFactory app)
{
    private static readonly string[] ServiceTables = ["calls", "webhook_events", "quarantined_webhooks", "call_actions"];

    public static TheoryData<string> BadCases => new(HostileCorpus.Bad.Select(c => c.Name));

    public static TheoryData<string> AcceptedCases => new(HostileCorpus.Accepted.Select(c => c.Name));

    [Fact]
    public void The_corpus_has_at_least_50_bad_requests_with_unique_names_and_only_400_401_413_or_415()
    {
        Assert.True(HostileCorpus.Bad.Count >= 50, $"{HostileCorpus.Bad.Count} cases");
        Assert.Equal(HostileCorpus.Bad.Count, HostileCorpus.Bad.Select(c => c.Name).Distinct(StringComparer.Ordinal).Count());
        Assert.All(HostileCorpus.Bad, c => Assert.Contains((int)c.Expected, new[] { 400, 401, 413, 415 }));
        // Only authenticated requests can reach the body check, so every 400 of the corpus is authenticated.
        Assert.All(HostileCorpus.Bad.Where(c => c.Expected == HttpStatusCode.BadRequest), c => Assert.True(c.Authenticated, c.Name));
    }

    [Theory]
    [MemberData(nameof(BadCases))]
    public async Task Bad_request_gets_its_exact_4xx_problem_and_the_service_stays_healthy(string name)
    {
        var hostile = HostileCorpus.BadCase(name);

        var (status, body, mediaType) = await SendAsync(hostile);

        Assert.True(hostile.Expected == status,
            $"{name}: expected {(int)hostile.Expected}, got {(int)status}: {Shorten(body)}; last errors logged: {app.Logs.RecentErrors()}");
        Assert.Equal("application/problem+json", mediaType);
        using var problem = JsonDocument.Parse(body);
        if (status == HttpStatusCode.BadRequest)
        {
            Assert.True(problem.RootElement.TryGetProperty("errors", out _), body);
            Assert.True(problem.RootElement.GetProperty("quarantine_id").GetInt64() > 0, body);
        }
        if (status == HttpStatusCode.Unauthorized)
        {
            Assert.False(problem.RootElement.TryGetProperty("detail", out _), "a 401 must not say which check failed");
        }
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task The_whole_corpus_stores_no_event_or_call_and_quarantines_exactly_the_authenticated_400s()
    {
        var eventsBefore = await CountAsync("webhook_events");
        var callsBefore = await CountAsync("calls");
        var quarantinedBefore = await CountAsync("quarantined_webhooks");

        var wrong = new List<string>();
        var quarantinable = 0;
        foreach (var hostile in HostileCorpus.Bad)
        {
            var (status, body, _) = await SendAsync(hostile);
            if (status != hostile.Expected)
            {
                wrong.Add($"{hostile.Name}: expected {(int)hostile.Expected}, got {(int)status} {Shorten(body)}");
            }
            if (hostile.Authenticated && status == HttpStatusCode.BadRequest)
            {
                quarantinable++;
            }
        }

        Assert.Equal(eventsBefore, await CountAsync("webhook_events"));
        Assert.Equal(callsBefore, await CountAsync("calls"));
        Assert.Equal(quarantinedBefore + quarantinable, await CountAsync("quarantined_webhooks"));
        await AssertHealthyAsync();
        await AssertTablesExistAsync();
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {HostileCorpus.Bad.Count} cases answered otherwise:\n" + string.Join('\n', wrong));
        Assert.Equal(HostileCorpus.Bad.Count(c => c.Expected == HttpStatusCode.BadRequest), quarantinable);
    }

    [Theory]
    [MemberData(nameof(AcceptedCases))]
    public async Task Hostile_looking_but_valid_event_is_accepted_stored_verbatim_and_harmless(string name)
    {
        var accepted = HostileCorpus.AcceptedCaseNamed(name).Build();
        using var client = app.CreateClient();
        using var request = HostileCorpus.SignedAccepted(app, accepted);

        using var response = await client.SendAsync(request);

        var answer = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted,
            $"{name}: expected 202, got {(int)response.StatusCode}: {Shorten(answer)}; last errors logged: {app.Logs.RecentErrors()}");
        using var json = JsonDocument.Parse(answer);
        Assert.Equal(accepted.CallId, json.RootElement.GetProperty("call_id").GetString());
        var eventId = json.RootElement.GetProperty("event_id").GetInt64();
        Assert.Equal(accepted.Body, await Db.ScalarAsync<byte[]>(app.ConnectionString, "SELECT raw_body FROM webhook_events WHERE id = $1", eventId));
        Assert.Equal(accepted.CallId, await Db.ScalarAsync<string>(app.ConnectionString, "SELECT call_id FROM webhook_events WHERE id = $1", eventId));
        foreach (var (sql, args, expected) in accepted.Stored)
        {
            Assert.Equal(expected, await Db.ScalarAsync<string>(app.ConnectionString, sql, args));
        }
        if (!accepted.CallId.Contains('/', StringComparison.Ordinal))
        {
            var call = await app.GetJsonAsync($"/calls/{Uri.EscapeDataString(accepted.CallId)}");
            Assert.Equal(accepted.CallId, call.GetProperty("id").GetString());
        }
        await AssertTablesExistAsync();
        await AssertHealthyAsync();
    }

    private async Task<(HttpStatusCode Status, string Body, string? MediaType)> SendAsync(HostileCase hostile)
    {
        using var client = app.CreateClient();
        using var request = hostile.Build(app);
        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.MediaType);
    }

    private async Task AssertHealthyAsync()
    {
        using var client = app.CreateClient();
        foreach (var path in new[] { "/health/live", "/health/ready" })
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} answered {(int)response.StatusCode}");
        }
    }

    private async Task AssertTablesExistAsync()
    {
        foreach (var table in ServiceTables)
        {
            Assert.True(await Db.ScalarAsync<string>(app.ConnectionString, "SELECT to_regclass($1)::text", table) is not null, $"table {table} is gone");
        }
        Assert.True(await CountAsync("webhook_events") > 0);
    }

    private Task<long> CountAsync(string table) => Db.CountAsync(app.ConnectionString, $"SELECT count(*) FROM {table}");

    private static string Shorten(string text) => text.Length > 300 ? text[..300] + "…" : text;
}
