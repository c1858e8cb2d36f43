using System.Net;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Observability;

/// <summary>
/// One webhook end to end as a trace (README "Observability"): a host of its own on its own database, exporting over
/// real OTLP/HTTP to an in-process collector, its CRM a real HTTP stub. And the same path with tracing off.
/// </summary>
public sealed class TracingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_webhook_its_crm_send_and_the_crm_request_share_one_trace_and_the_crm_gets_its_traceparent()
    {
        await using var collector = new OtlpReceiver();
        await collector.StartAsync();
        await using var app = await Hosts.StartAsync(null, new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.BaseUrl,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
            // The sampler through the standard variables: everything, so the test does not depend on chance.
            ["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio",
            ["OTEL_TRACES_SAMPLER_ARG"] = "1.0",
        });
        var callId = MiniVoiceEvents.NewCallId();

        var completed = MiniVoiceEvents.Event(callId, "call.completed", "completed", DateTimeOffset.UtcNow);
        using (var response = await app.PostSignedAsync(completed))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        await Eventually.WaitAsync(() => app.Crm.For(callId).Count > 0, Timeout, "the CRM request of the call");
        using (var probe = await app.CreateClient().GetAsync(new Uri("/health/live", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        }

        // The outbox row holds the request's context: its trace and the webhook span's id.
        var stored = await Db.ScalarAsync<string>(app.ConnectionString,
            "SELECT trace_parent FROM call_actions WHERE call_id = $1 AND action = 'crm.sync'", callId);
        Assert.NotNull(stored);
        var (traceId, webhookSpanId) = (stored.Split('-')[1], stored.Split('-')[2]);

        List<ReceivedSpan> Trace() => collector.Spans.Where(s => s.TraceId == traceId).ToList();
        ReceivedSpan? Send() => Trace().FirstOrDefault(s => s.Name == "send crm.sync");
        ReceivedSpan? Outgoing() => Send() is { } send
            ? Trace().FirstOrDefault(s => s.ParentSpanId == send.SpanId && s.Kind == ReceivedSpan.KindClient)
            : null;
        // The probe's request from this process is traced (its client span), the server's answer to it is not.
        List<ReceivedSpan> ProbeRequests() => collector.Spans.Where(s => s.Kind == ReceivedSpan.KindClient
            && s.Attributes.GetValueOrDefault("url.full")?.EndsWith("/health/live", StringComparison.Ordinal) == true).ToList();
        await Eventually.WaitAsync(
            () => Task.FromResult(Outgoing() is not null && Trace().Any(s => s.Name == "ingest batch") && ProbeRequests().Count > 0),
            Timeout,
            "the webhook's trace with its ingest batch, send and outgoing request",
            () => Task.FromResult(string.Join("; ", collector.Spans.Select(s => $"{s.Name} {s.TraceId}/{s.SpanId}<-{s.ParentSpanId}"))));

        var webhook = Assert.Single(Trace(), s => s.SpanId == webhookSpanId);
        Assert.Equal(ReceivedSpan.KindServer, webhook.Kind);
        Assert.Equal("/webhooks/minivoice", webhook.Attributes["http.route"]);
        Assert.Equal("POST /webhooks/minivoice", webhook.Name);
        Assert.Equal("202", webhook.Attributes["http.response.status_code"]);
        // The group commit that stored the event: under the webhook and linked to it. It is the batch's database time
        // itself: Npgsql does not trace the hot path's batch again.
        var batch = Assert.Single(Trace(), s => s.Name == "ingest batch");
        Assert.Equal(webhookSpanId, batch.ParentSpanId);
        Assert.Contains((traceId, webhookSpanId), batch.Links);
        Assert.DoesNotContain(Trace(), s => s.ParentSpanId == batch.SpanId);
        // The job's send continues the webhook's trace; the job run it belongs to is a link.
        var send = Send()!;
        Assert.Equal(webhookSpanId, send.ParentSpanId);
        Assert.Equal(callId, send.Attributes["webhookreceiver.call_id"]);
        Assert.Equal("succeeded", send.Attributes["webhookreceiver.outcome"]);
        var jobLink = Assert.Single(send.Links);
        await Eventually.WaitAsync(() => collector.Spans.Any(s => s.SpanId == jobLink.SpanId && s.Name == "delivery job"), Timeout,
            "the delivery job span the send links to");
        // The job's own statements (claim its rows, fix the body, settle) are Npgsql's spans under the job run.
        await Eventually.WaitAsync(
            () => collector.Spans.Any(s => s.ParentSpanId == jobLink.SpanId && s.Scope == "Npgsql"), Timeout, "Npgsql spans under the job");
        // The CRM request is HttpClient's span under the send, and the CRM received exactly its context.
        var outgoing = Outgoing()!;
        Assert.Equal("POST", outgoing.Attributes["http.request.method"]);
        var received = Assert.Single(app.Crm.For(callId));
        Assert.Equal($"00-{traceId}-{outgoing.SpanId}-01", received.TraceParent);
        // Probes are not traced.
        Assert.DoesNotContain(collector.Spans,
            s => s.Kind == ReceivedSpan.KindServer && ProbeRequests().Any(probe => probe.SpanId == s.ParentSpanId));
        // Log lines of the request carry its trace (Serilog: TraceId/SpanId, @tr/@sp in the JSON lines).
        Assert.Contains(app.Logs.Events, e => e.TraceId?.ToHexString() == traceId && e.SpanId?.ToHexString() == webhookSpanId);
    }

    [Fact]
    public async Task A_request_its_caller_did_not_sample_stores_no_context_and_its_crm_request_starts_a_trace_of_its_own()
    {
        await using var collector = new OtlpReceiver();
        await collector.StartAsync();
        await using var app = await Hosts.StartAsync(null, new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.BaseUrl,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        });
        var callId = MiniVoiceEvents.NewCallId();
        var callerTrace = ActivityTraceIdHex();
        var body = System.Text.Encoding.UTF8.GetBytes(
            MiniVoiceEvents.Event(callId, "call.completed", "completed", DateTimeOffset.UtcNow));
        var (id, timestamp) = ("msg_" + Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/minivoice") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", StandardWebhookSigner.Sign(app.Secret, id, timestamp, body));
        // The caller decided not to sample (flags 00): the default parent-based sampler follows it.
        request.Headers.Add("traceparent", $"00-{callerTrace}-{ActivityTraceIdHex()[..16]}-00");
        // Sent as is: no propagator, so this process's own HttpClient tracing does not replace the header.
        using var appClient = app.CreateClient();
        using var client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null })
        {
            BaseAddress = appClient.BaseAddress,
        };

        using (var response = await client.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        await Eventually.WaitAsync(() => app.Crm.For(callId).Count > 0, Timeout, "the CRM request of the call");

        Assert.Equal(1, await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM call_actions WHERE call_id = $1 AND action = 'crm.sync' AND trace_parent IS NULL", callId));
        // The send had no stored context: it ran under its job's trace, which the CRM request continues.
        var received = Assert.Single(app.Crm.For(callId)).TraceParent;
        Assert.NotNull(received);
        Assert.DoesNotContain(callerTrace, received, StringComparison.Ordinal);
        Assert.DoesNotContain(collector.Spans, s => s.TraceId == callerTrace);
    }

    private static string ActivityTraceIdHex() => System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString();

    [Fact]
    public async Task Without_an_endpoint_nothing_is_stored_and_the_crm_request_carries_no_traceparent()
    {
        await using var app = await Hosts.StartAsync(null, new Dictionary<string, string?>());
        var callId = MiniVoiceEvents.NewCallId();

        var completed = MiniVoiceEvents.Event(callId, "call.completed", "completed", DateTimeOffset.UtcNow);
        using (var response = await app.PostSignedAsync(completed))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        await Eventually.WaitAsync(() => app.Crm.For(callId).Count > 0, Timeout, "the CRM request of the call");

        Assert.Equal(1, await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM call_actions WHERE call_id = $1 AND action = 'crm.sync' AND trace_parent IS NULL", callId));
        // No tracer provider: nothing creates an Activity in the job, so HttpClient has no context to send.
        Assert.Null(Assert.Single(app.Crm.For(callId)).TraceParent);
    }
}
