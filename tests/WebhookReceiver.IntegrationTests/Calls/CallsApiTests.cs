using System.Net;
using System.Text.Json;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Calls;

[Collection(ReceiverCollection.Name)]
public sealed class CallsApiTests(ReceiverFactory app)
{
    [Fact]
    public async Task An_unknown_call_id_gets_a_404_problem()
    {
        using var client = app.CreateClient();

        using var response = await client.GetAsync(new Uri("/calls/call_never_seen", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("customer_id=cust%00", "customer_id")]
    [InlineData("status=%00", "status")]
    [InlineData("cursor=MTAwfGNhbGwAeA", "cursor")] // base64url of "100|call\0x": a forged cursor whose ID holds a NUL
    public async Task A_list_parameter_PostgreSQL_cannot_hold_is_a_400_naming_it_not_a_500(string query, string parameter)
    {
        using var client = app.CreateClient();

        using var response = await client.GetAsync(new Uri("/calls?" + query, UriKind.Relative));
        using var page = await client.GetAsync(new Uri("/console/calls?" + query, UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal([parameter], (await response.JsonAsync()).GetProperty("errors").EnumerateObject().Select(e => e.Name));
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
    }

    [Fact]
    public async Task A_call_shows_its_record_timeline_and_actions_in_the_contracts_shape()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var t = new DateTimeOffset(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);
        using (await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", t.AddMinutes(10), variables: new { order = "B2" }))) { }
        using (await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.ringing", "ringing", t))) { }

        var call = await app.GetJsonAsync($"/calls/{callId}");

        foreach (var field in new[] { "id", "customer_id", "application_id", "direction", "from", "to", "status", "is_final",
                     "first_event_at", "last_event_at", "variables", "recordings", "transcripts", "ai_results", "billing", "events", "actions" })
        {
            Assert.True(call.TryGetProperty(field, out _), $"missing field {field}");
        }
        Assert.Equal("+15551230001", call.GetProperty("from").GetString());
        Assert.Equal("B2", call.GetProperty("variables").GetProperty("order").GetString());
        var events = call.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(["call.ringing", "call.completed"], events.Select(e => e.GetProperty("event").GetString()));
        Assert.True(events[0].GetProperty("out_of_order").GetBoolean());
        Assert.False(events[1].GetProperty("out_of_order").GetBoolean());
        Assert.True(events[0].TryGetProperty("received_at", out _));
        // Both events left the call final, so each asked for a CRM sync (the late ringing one too).
        var actions = call.GetProperty("actions").EnumerateArray().ToList();
        Assert.Equal(["crm.sync", "crm.sync"], actions.Select(a => a.GetProperty("action").GetString()));
        Assert.All(actions, a =>
        {
            Assert.Contains(a.GetProperty("state").GetString(), new[] { "pending", "succeeded", "failed" });
            Assert.Equal(JsonValueKind.Number, a.GetProperty("attempts").ValueKind);
            Assert.True(a.TryGetProperty("last_error", out _));
        });
    }

    [Fact]
    public async Task The_list_filters_by_customer_status_and_time_newest_first_with_keyset_pages()
    {
        var customer = "cust_" + Guid.NewGuid().ToString("N")[..8];
        var t = new DateTimeOffset(2026, 6, 1, 8, 0, 0, TimeSpan.Zero);
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            var callId = MiniVoiceEvents.NewCallId();
            ids.Add(callId);
            var body = MiniVoiceEvents.Event(callId, "call.completed", i % 2 == 0 ? "completed" : "no_answer", t.AddMinutes(i))
                .Replace("cust_123", customer, StringComparison.Ordinal);
            using var response = await app.PostSignedAsync(body);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await app.GetJsonAsync($"/calls?customer_id={customer}&limit=3" + (cursor is null ? "" : $"&cursor={cursor}"));
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("id").GetString()!));
            Assert.All(page.GetProperty("items").EnumerateArray(), c => Assert.False(c.TryGetProperty("events", out _)));
            cursor = page.GetProperty("next_cursor").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next_cursor").GetString();
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(ids), seen);

        var noAnswer = await app.GetJsonAsync($"/calls?customer_id={customer}&status=no-answer");
        Assert.Equal([ids[5], ids[3], ids[1]], noAnswer.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("id").GetString()));

        var window = await app.GetJsonAsync($"/calls?customer_id={customer}&since=2026-06-01T08:02:00Z&until=2026-06-01T08:04:00Z");
        Assert.Equal([ids[3], ids[2]], window.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("id").GetString()));
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=501")]
    [InlineData("since=yesterday")]
    [InlineData("cursor=not-a-cursor")]
    public async Task Bad_list_parameters_get_a_400_problem_naming_the_parameter(string query)
    {
        using var client = app.CreateClient();

        using var response = await client.GetAsync(new Uri($"/calls?{query}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.JsonAsync();
        Assert.True(problem.GetProperty("errors").TryGetProperty(query.Split('=')[0], out _));
    }
}

/// <summary>Call records hold phone numbers: with operator credentials configured, /calls demands them.</summary>
public sealed class OperatorAccessTests : IClassFixture<OperatorAccessTests.WithDashboardCredentials>
{
    private readonly WithDashboardCredentials _app;

    public OperatorAccessTests(WithDashboardCredentials app) => _app = app;

    public sealed class WithDashboardCredentials : ReceiverFactory
    {
        public const string Password = "operator-pass-for-tests";

        protected override void Configure(IDictionary<string, string?> settings)
        {
            settings["Dashboard:Username"] = "ops";
            settings["Dashboard:Password"] = Password;
            settings["Role"] = "api";
        }
    }

    [Fact]
    public async Task Calls_answer_401_without_or_with_wrong_operator_credentials()
    {
        using var client = _app.CreateClient();
        using var none = await client.GetAsync(new Uri("/calls", UriKind.Relative));
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/calls");
        wrong.Headers.Authorization = ReceiverFactory.BasicHeader("ops", "wrong");
        using var wrongResponse = await client.SendAsync(wrong);
        // Webhook sender credentials are not operator credentials.
        using var sender = new HttpRequestMessage(HttpMethod.Get, "/calls");
        sender.Headers.Authorization = ReceiverFactory.BasicHeader(ReceiverFactory.BasicUser, ReceiverFactory.BasicPassword);
        using var senderResponse = await client.SendAsync(sender);

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Contains("Basic", none.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongResponse.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, senderResponse.StatusCode);
    }

    [Fact]
    public async Task Calls_answer_200_with_operator_credentials()
    {
        using var client = _app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/calls");
        request.Headers.Authorization = ReceiverFactory.BasicHeader("ops", WithDashboardCredentials.Password);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
