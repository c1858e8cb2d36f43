using System.Net;
using System.Net.Http.Headers;
using System.Text;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Observability;

/// <summary>/metrics after real requests: each series moves by exactly what was sent (a host and database of its own).</summary>
public sealed class MetricsTests(MetricsTests.WithOperatorCredentials app) : IClassFixture<MetricsTests.WithOperatorCredentials>
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);
    private const string Received = "webhookreceiver_webhooks_received_total";
    private const string AckCount = "http_server_request_duration_seconds_count";
    private static readonly (string, string) WebhookRoute = ("http_route", "/webhooks/minivoice");

    public sealed class WithOperatorCredentials : ReceiverFactory
    {
        public const string Password = "metrics-operator-pass";

        protected override void Configure(IDictionary<string, string?> settings)
        {
            settings["Dashboard:Username"] = "ops";
            settings["Dashboard:Password"] = Password;
        }

        internal async Task<PrometheusText> ScrapeAsync()
        {
            using var client = CreateClient();
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            request.Headers.Authorization = BasicHeader("ops", Password);
            using var response = await client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"/metrics answered {(int)response.StatusCode}: {text}");
            return PrometheusText.Parse(text);
        }
    }

    [Fact]
    public async Task Metrics_need_operator_credentials_and_answer_prometheus_text()
    {
        using var client = app.CreateClient();
        using var anonymous = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        wrong.Headers.Authorization = ReceiverFactory.BasicHeader("ops", "wrong");
        using var wrongResponse = await client.SendAsync(wrong);
        using var right = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        right.Headers.Authorization = ReceiverFactory.BasicHeader("ops", WithOperatorCredentials.Password);
        using var rightResponse = await client.SendAsync(right);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongResponse.StatusCode);
        Assert.Equal(HttpStatusCode.OK, rightResponse.StatusCode);
        Assert.StartsWith("text/plain", rightResponse.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        Assert.Contains("# TYPE ", await rightResponse.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Webhook_results_authentication_and_ack_latency_follow_the_requests_sent()
    {
        var before = await app.ScrapeAsync();
        var fixedId = "msg_" + Guid.NewGuid().ToString("N");
        var first = NewEvent();

        (await app.PostSignedAsync(first, webhookId: fixedId)).Dispose();                       // accepted, secret 0
        (await app.PostSignedAsync(first, webhookId: fixedId)).Dispose();                       // duplicate, secret 0
        (await app.PostSignedAsync(NewEvent(), secret: app.RotatedSecret)).Dispose();           // accepted, secret 1
        (await app.PostBasicAsync(NewEvent())).Dispose();                                       // accepted, Basic
        (await app.PostSignedAsync(NewEvent(), secret: StandardWebhookSigner.NewSecret())).Dispose(); // no match
        (await SendAsync(NewEvent(), ("webhook-id", "msg_x"), ("webhook-timestamp", Now()), ("webhook-signature", "v1,AAAA"))).Dispose(); // malformed
        (await SendAsync(NewEvent(), ("webhook-id", "msg_x"), ("webhook-timestamp", "yesterday"), ("webhook-signature", "v1,AAAA"))).Dispose();
        (await SendAsync(NewEvent())).Dispose();                                                // no credentials at all
        (await app.PostSignedAsync("{\"event\":")).Dispose();                                  // invalid
        (await app.PostSignedAsync(Encoding.UTF8.GetBytes(NewEvent()), contentType: "text/plain")).Dispose();
        (await app.PostSignedAsync(new byte[300_000])).Dispose();                               // too large

        var after = await app.ScrapeAsync();
        double Delta(string name, params (string, string)[] labels) => after.Sum(name, labels) - before.Sum(name, labels);

        Assert.Equal(3, Delta(Received, ("result", "accepted")));
        Assert.Equal(1, Delta(Received, ("result", "duplicate")));
        Assert.Equal(4, Delta(Received, ("result", "unauthorized")));
        Assert.Equal(1, Delta(Received, ("result", "invalid")));
        Assert.Equal(1, Delta(Received, ("result", "unsupported_media_type")));
        Assert.Equal(1, Delta(Received, ("result", "too_large")));
        const string failures = "webhookreceiver_webhooks_auth_failures_total";
        Assert.Equal(1, Delta(failures, ("reason", "signature_mismatch")));
        Assert.Equal(1, Delta(failures, ("reason", "signature_malformed")));
        Assert.Equal(1, Delta(failures, ("reason", "timestamp_invalid")));
        Assert.Equal(1, Delta(failures, ("reason", "signature_missing")));
        const string authenticated = "webhookreceiver_webhooks_authenticated_total";
        // The duplicate and the invalid body were authenticated too (by the primary secret).
        Assert.Equal(3, Delta(authenticated, ("method", "signature"), ("secret", "0")));
        Assert.Equal(1, Delta(authenticated, ("method", "signature"), ("secret", "1")));
        Assert.Equal(1, Delta(authenticated, ("method", "basic")));
        Assert.DoesNotContain(app.Secret, after.Raw, StringComparison.Ordinal);
        // Ack latency: every request to the webhook route is timed, by answer status, in buckets from 1 ms.
        Assert.Equal(11, Delta(AckCount, WebhookRoute));
        Assert.Equal(3, Delta(AckCount, WebhookRoute, ("http_response_status_code", "202")));
        Assert.Equal(4, Delta(AckCount, WebhookRoute, ("http_response_status_code", "401")));
        Assert.True(Delta("http_server_request_duration_seconds_sum", WebhookRoute) > 0);
        Assert.Contains("le=\"0.001\"", after.Raw, StringComparison.Ordinal);
        Assert.Equal(11, after.Sum("http_server_request_duration_seconds_bucket", WebhookRoute, ("le", "+Inf"))
                         - before.Sum("http_server_request_duration_seconds_bucket", WebhookRoute, ("le", "+Inf")));
    }

    [Fact]
    public async Task An_event_older_than_the_calls_latest_is_counted_out_of_order_and_in_order_ones_are_not()
    {
        var callId = MiniVoiceEvents.NewCallId();
        var before = await app.ScrapeAsync();

        await Accept(MiniVoiceEvents.Event(callId, "call.ringing", "ringing", T0));
        await Accept(MiniVoiceEvents.Event(callId, "call.answered", "in-progress", T0.AddMinutes(1)));
        var middle = await app.ScrapeAsync();
        await Accept(MiniVoiceEvents.Event(callId, "call.initiated", "initiated", T0.AddSeconds(-5)));
        var after = await app.ScrapeAsync();

        const string name = "webhookreceiver_webhooks_out_of_order_total";
        Assert.Equal(0, middle.Sum(name) - before.Sum(name));
        Assert.Equal(1, after.Sum(name) - middle.Sum(name));
    }

    [Fact]
    public async Task Job_attempts_are_counted_by_action_and_outcome()
    {
        var failing = MiniVoiceEvents.NewCallId();
        var fine = MiniVoiceEvents.NewCallId();
        app.Crm.Script(failing, new StubReply(503), new StubReply(422));
        var before = await app.ScrapeAsync();

        await Accept(MiniVoiceEvents.Event(failing, "call.completed", "completed", T0));
        await Accept(MiniVoiceEvents.Event(fine, "call.completed", "completed", T0));
        await Actions.SettledAsync(app.ConnectionString, failing);
        await Actions.SettledAsync(app.ConnectionString, fine);
        var after = await app.ScrapeAsync();

        const string name = "webhookreceiver_jobs_attempts_total";
        double Delta(string outcome) => after.Sum(name, ("action", "crm.sync"), ("outcome", outcome)) - before.Sum(name, ("action", "crm.sync"), ("outcome", outcome));
        Assert.Equal(1, Delta("transient_failure"));
        Assert.Equal(1, Delta("permanent_failure"));
        Assert.Equal(1, Delta("succeeded"));
        Assert.Equal(0, after.Sum(name, ("action", "ticket.create")) - before.Sum(name, ("action", "ticket.create")));
    }

    [Fact]
    public async Task Backlog_gauges_show_pending_work_its_age_and_hangfire_queue_depth_from_the_database()
    {
        var callId = MiniVoiceEvents.NewCallId();
        // Work that waits: owned by a batch that holds it for an hour (so the dispatcher leaves it alone), an hour old;
        // and a queued job in a queue no worker of this host serves.
        await Db.CountAsync(app.ConnectionString,
            "WITH a AS (INSERT INTO call_actions (call_id, action, state, attempts, created_at, updated_at, lease_owner, lease_until) " +
            "VALUES ($1, 'crm.sync', 'pending', 0, now() - interval '1 hour', now(), gen_random_uuid(), now() + interval '1 hour'), " +
            "($1, 'ticket.create', 'pending', 0, now() - interval '10 minutes', now(), gen_random_uuid(), now() + interval '1 hour') RETURNING 1) SELECT count(*) FROM a", callId);
        await Db.CountAsync(app.ConnectionString,
            "WITH q AS (INSERT INTO hangfire.jobqueue (jobid, queue) VALUES (-1, 'metrics-test') RETURNING 1) SELECT count(*) FROM q");
        try
        {
            PrometheusText? scrape = null;
            await Eventually.WaitAsync(async () =>
            {
                scrape = await app.ScrapeAsync();
                return scrape.Sum("webhookreceiver_outbox_pending") >= 2 && scrape.Sum("webhookreceiver_jobs_queue_depth") >= 1;
            }, TimeSpan.FromSeconds(20), "backlog gauges refreshed from the database",
                () => Task.FromResult(string.Join('\n', scrape?.Raw.Split('\n').Where(l => l.Contains("outbox", StringComparison.Ordinal) || l.Contains("queue", StringComparison.Ordinal)) ?? [])));

            var age = scrape!.Sum("webhookreceiver_outbox_oldest_pending_age_seconds");
            Assert.InRange(age, 3600, 3700);
            Assert.True(scrape.Has("webhookreceiver_outbox_due"));
            // Per destination too: its backlog, its age, and its breaker and pause state.
            Assert.True(scrape.Sum("webhookreceiver_destination_pending", ("destination", "crm")) >= 1);
            Assert.True(scrape.Sum("webhookreceiver_destination_pending", ("destination", "tickets")) >= 1);
            Assert.InRange(scrape.Sum("webhookreceiver_destination_oldest_pending_age_seconds", ("destination", "crm")), 3600, 3700);
            Assert.Equal(0, scrape.Sum("webhookreceiver_destination_paused", ("destination", "crm")));
            Assert.True(scrape.Has("webhookreceiver_destination_open"));
            Assert.True(scrape.Has("webhookreceiver_destination_in_flight"));
        }
        finally
        {
            await Db.CountAsync(app.ConnectionString, "WITH d AS (DELETE FROM call_actions WHERE call_id = $1 RETURNING 1) SELECT count(*) FROM d", callId);
            await Db.CountAsync(app.ConnectionString, "WITH d AS (DELETE FROM hangfire.jobqueue WHERE queue = 'metrics-test' RETURNING 1) SELECT count(*) FROM d");
        }
    }

    [Fact]
    public async Task Another_host_in_the_same_process_does_not_show_in_this_hosts_metrics()
    {
        var other = new CustomReceiverFactory(null, new Dictionary<string, string?>());
        await ((IAsyncLifetime)other).InitializeAsync();
        try
        {
            var before = await app.ScrapeAsync();
            using (var response = await other.PostSignedAsync(NewEvent()))
            {
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }
            var after = await app.ScrapeAsync();

            Assert.Equal(0, after.Sum(Received) - before.Sum(Received));
            Assert.Equal(0, after.Sum(AckCount, WebhookRoute) - before.Sum(AckCount, WebhookRoute));
        }
        finally
        {
            await ((IAsyncLifetime)other).DisposeAsync();
        }
    }

    private async Task Accept(string json)
    {
        using var response = await app.PostSignedAsync(json);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private async Task<HttpResponseMessage> SendAsync(string json, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/minivoice") { Content = new StringContent(json) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        using var client = app.CreateClient();
        return await client.SendAsync(request);
    }

    private static string Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string NewEvent() => MiniVoiceEvents.Event(MiniVoiceEvents.NewCallId(), "call.ringing", "ringing", T0);
}
