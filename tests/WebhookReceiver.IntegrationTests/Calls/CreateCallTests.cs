using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Calls;

/// <summary>POST /calls against a real HTTP server playing MiniVoice, answering with the docs' fixtures.</summary>
[Collection(ReceiverCollection.Name)]
public sealed class CreateCallTests(ReceiverFactory app)
{
    private static readonly object Ask = new { from = "+15551230001", to = "+15551230002", record = true };

    [Fact]
    public async Task A_created_call_is_stored_at_once_and_answered_201_with_its_location()
    {
        var callId = ScriptCreated();

        using var response = await PostCall(Ask);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal($"/calls/{callId}", response.Headers.Location?.OriginalString);
        var body = await response.JsonAsync();
        Assert.Equal("dialing", body.GetProperty("status").GetString());
        Assert.Equal("outbound", body.GetProperty("direction").GetString());
        Assert.Equal("cust_123", body.GetProperty("customer_id").GetString());
        Assert.Equal(1, await Db.CountAsync(app.ConnectionString, "SELECT count(*) FROM calls WHERE id = $1 AND status = 'dialing'", callId));
        // Tests in this collection run one at a time, so the newest request to the stub is this test's.
        var sent = app.MiniVoice.Requests.MaxBy(r => r.ReceivedAt)!;
        Assert.Equal("/v1/calls", sent.Path);
        Assert.Equal($"Bearer {ReceiverFactory.MiniVoiceKey}", sent.Authorization);
        Assert.True(sent.Body.GetProperty("record").GetBoolean());
    }

    [Fact]
    public async Task A_later_webhook_attaches_to_the_created_call_keeping_both_sides_fields()
    {
        var callId = ScriptCreated();
        using (var created = await PostCall(Ask))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        var webhook = JsonNode.Parse(MiniVoiceEvents.Event(callId, "call.completed", "completed", DateTimeOffset.UtcNow))!;
        webhook["call"]!.AsObject().Remove("customer_id");

        using (var response = await app.PostSignedAsync(webhook.ToJsonString()))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var call = await app.GetJsonAsync($"/calls/{callId}");
        Assert.Equal("completed", call.GetProperty("status").GetString());
        Assert.Equal("cust_123", call.GetProperty("customer_id").GetString());
        Assert.Single(call.GetProperty("events").EnumerateArray());
    }

    [Fact]
    public async Task A_webhook_that_wins_the_race_keeps_its_status_and_gains_the_apis_fields()
    {
        var callId = ScriptCreated(customerId: "cust_from_api");
        var webhook = JsonNode.Parse(MiniVoiceEvents.Event(callId, "call.ringing", "ringing", DateTimeOffset.UtcNow))!;
        webhook["call"]!.AsObject().Remove("customer_id");
        using (var early = await app.PostSignedAsync(webhook.ToJsonString()))
        {
            Assert.Equal(HttpStatusCode.Accepted, early.StatusCode);
        }

        using var response = await PostCall(Ask);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var call = await app.GetJsonAsync($"/calls/{callId}");
        Assert.Equal("ringing", call.GetProperty("status").GetString());
        Assert.Equal("cust_from_api", call.GetProperty("customer_id").GetString());
        Assert.Single(call.GetProperty("events").EnumerateArray());
    }

    [Theory]
    [InlineData(402)]
    [InlineData(400)]
    public async Task Insufficient_balance_is_a_402_problem_carrying_minivoices_code_and_message_whatever_its_status(int miniVoiceStatus)
    {
        var before = app.MiniVoice.Requests.Count;
        app.MiniVoice.ScriptNext(new StubReply(miniVoiceStatus, Body: Fixture("error.insufficient-balance.json")));

        using var response = await PostCall(Ask);

        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.JsonAsync();
        Assert.Equal("insufficient_balance", problem.GetProperty("code").GetString());
        Assert.Equal("balance is too low to create call", problem.GetProperty("detail").GetString());
        Assert.Equal(before + 1, app.MiniVoice.Requests.Count);
        Assert.Contains(app.Logs.Events, e => e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture)
            .Contains("balance is too low to create call", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Another_minivoice_4xx_is_a_422_with_its_code()
    {
        app.MiniVoice.ScriptNext(new StubReply(400, Body: """{"error":{"code":"invalid_destination","message":"cannot call that number"}}"""));

        using var response = await PostCall(Ask);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("invalid_destination", (await response.JsonAsync()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_minivoice_5xx_is_a_502_after_exactly_one_request()
    {
        var before = app.MiniVoice.Requests.Count;
        app.MiniVoice.ScriptNext(new StubReply(503, Body: """{"error":{"code":"unavailable","message":"try later"}}"""));

        using var response = await PostCall(Ask);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(before + 1, app.MiniVoice.Requests.Count);
    }

    [Fact]
    public async Task A_minivoice_that_does_not_answer_in_time_is_a_504_after_exactly_one_request()
    {
        var before = app.MiniVoice.Requests.Count;
        app.MiniVoice.ScriptNext(new StubReply(Delay: TimeSpan.FromSeconds(4), Body: Fixture("create-call.response.json")));

        using var response = await PostCall(Ask);
        await Eventually.WaitAsync(() => app.MiniVoice.Requests.Count > before, TimeSpan.FromSeconds(10), "the stub to record the slow request");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal(before + 1, app.MiniVoice.Requests.Count);
    }

    [Theory]
    [InlineData("{\"from\":\"abc\",\"to\":\"+15551230002\"}", "from")]
    [InlineData("{\"from\":\"+15551230001\"}", "to")]
    [InlineData("{\"from\":\"+15551230001\",\"to\":\"+15551230002\",\"record\":\"yes\"}", "record")]
    [InlineData("{\"from\":15551230001,\"to\":\"+15551230002\"}", "from")]
    [InlineData("{\"from\":\"+15551230001\",", "body")]
    public async Task An_invalid_request_is_a_400_naming_the_field_and_never_reaches_minivoice(string json, string field)
    {
        var before = app.MiniVoice.Requests.Count;

        using var client = app.CreateClient();
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(new Uri("/calls", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty(field, out _));
        Assert.Equal(before, app.MiniVoice.Requests.Count);
    }

    [Fact]
    public async Task The_api_key_never_appears_in_logs_or_answers()
    {
        app.MiniVoice.ScriptNext(new StubReply(401, Body: """{"error":{"code":"invalid_api_key","message":"bad key"}}"""));

        using var response = await PostCall(Ask);
        var answer = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.DoesNotContain(ReceiverFactory.MiniVoiceKey, answer, StringComparison.Ordinal);
        Assert.DoesNotContain(ReceiverFactory.MiniVoiceKey, app.Logs.AsJsonLines(), StringComparison.Ordinal);
    }

    private string ScriptCreated(string customerId = "cust_123")
    {
        var callId = MiniVoiceEvents.NewCallId();
        var body = JsonNode.Parse(Fixture("create-call.response.json"))!;
        body["id"] = callId;
        body["customer_id"] = customerId;
        app.MiniVoice.ScriptNext(new StubReply(201, Body: body.ToJsonString()));
        return callId;
    }

    private async Task<HttpResponseMessage> PostCall(object body)
    {
        using var client = app.CreateClient();
        return await client.PostAsJsonAsync(new Uri("/calls", UriKind.Relative), body);
    }

    internal static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));
}

public sealed class UnreachableMiniVoiceTests
{
    [Fact]
    public async Task An_unreachable_minivoice_is_a_502()
    {
        var port = Ports.Free();
        var app = new CustomReceiverFactory(null, new Dictionary<string, string?>
        {
            ["Role"] = "api",
            ["MiniVoice:BaseUrl"] = $"http://127.0.0.1:{port}",
        });
        await app.InitializeAsync();
        try
        {
            using var client = app.CreateClient();

            using var response = await client.PostAsJsonAsync(new Uri("/calls", UriKind.Relative),
                new { from = "+15551230001", to = "+15551230002", record = false });

            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }
}

/// <summary>An operator's client that leaves while MiniVoice is still answering POST /calls.</summary>
public sealed class AbandonedCreateCallTests
{
    [Fact]
    public async Task A_call_minivoice_placed_is_stored_even_when_the_operators_client_left_before_the_answer()
    {
        await using var app = new ClientWatchingFactory();
        await app.InitializeAsync();
        var callId = MiniVoiceEvents.NewCallId();
        var answer = JsonNode.Parse(CreateCallTests.Fixture("create-call.response.json"))!;
        answer["id"] = callId;
        var gate = new StubGate();
        app.MiniVoice.ScriptNext(new StubReply(201, Body: answer.ToJsonString(), Gate: gate));
        try
        {
            using var client = app.CreateClient();
            using var leave = new CancellationTokenSource();
            var post = client.PostAsJsonAsync(new Uri("/calls", UriKind.Relative),
                new { from = "+15551230001", to = "+15551230002", record = false }, leave.Token);
            await gate.Arrived.WaitAsync(TimeSpan.FromSeconds(30));

            // The operator gives up (closes the connection) while MiniVoice is placing the call.
            await leave.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => post);
            await app.ClientLeft.WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            gate.Release();
        }

        await Eventually.WaitAsync(async () => await StatusOf(app, callId) == HttpStatusCode.OK, TimeSpan.FromSeconds(15),
            $"GET /calls/{callId} to find the call MiniVoice placed");
        var call = await app.GetJsonAsync($"/calls/{callId}");
        Assert.Equal("dialing", call.GetProperty("status").GetString());
        Assert.Single(app.MiniVoice.Requests);
    }

    private static async Task<HttpStatusCode> StatusOf(ReceiverFactory app, string callId)
    {
        using var client = app.CreateClient();
        using var response = await client.GetAsync(new Uri($"/calls/{callId}", UriKind.Relative));
        return response.StatusCode;
    }

    /// <summary>The app, telling the test when the server itself saw a POST /calls client leave (its RequestAborted).</summary>
    private sealed class ClientWatchingFactory : ReceiverFactory
    {
        private readonly TaskCompletionSource _clientLeft = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task ClientLeft => _clientLeft.Task;

        protected override void Configure(IDictionary<string, string?> settings)
        {
            settings["Role"] = "api";
            // Far above the test's own steps: only the client leaving may end this request early.
            settings["MiniVoice:TimeoutSeconds"] = "60";
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.AddSingleton<IStartupFilter>(new AbortWatcher(_clientLeft)));
        }
    }

    private sealed class AbortWatcher(TaskCompletionSource clientLeft) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, inner) =>
            {
                if (!HttpMethods.IsPost(context.Request.Method) || context.Request.Path != "/calls")
                {
                    await inner(context);
                    return;
                }
                using var watch = context.RequestAborted.Register(() => clientLeft.TrySetResult());
                await inner(context);
            });
            next(app);
        };
    }
}
