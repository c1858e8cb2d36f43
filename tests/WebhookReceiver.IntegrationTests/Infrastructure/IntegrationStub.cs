using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WebhookReceiver.IntegrationTests.Infrastructure;

/// <summary>What the stub does with one request.</summary>
public sealed record StubReply(
    int Status = 200, TimeSpan? Delay = null, TimeSpan? RetryAfter = null, bool AbortAfterApplying = false, string? Body = null,
    StubGate? Gate = null)
{
    public static StubReply Ok => new();
}

/// <summary>Holds a reply until the test releases it, and tells the test when the request has arrived.</summary>
public sealed class StubGate
{
    private readonly TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Arrived => _arrived.Task;

    public void Release() => _released.TrySetResult();

    /// <summary>Not cancelled by the caller leaving: the reply is still sent (or attempted) when the test says so.</summary>
    internal Task ArriveAndWaitAsync()
    {
        _arrived.TrySetResult();
        return _released.Task;
    }
}

public sealed record StubRequest(
    string Path, string? CallId, string? IdempotencyKey, string? Authorization, JsonElement Body,
    DateTimeOffset ReceivedAt, int AnsweredStatus)
{
    public DateTimeOffset FinishedAt { get; init; }

    /// <summary>The W3C traceparent header the request carried, if any.</summary>
    public string? TraceParent { get; init; }
}

/// <summary>
/// A real HTTP server on a loopback port standing in for the CRM or the ticket system. Replies are scripted
/// per call ID (default 200); every request is recorded with its timing, so tests can check keys, counts
/// and that two requests of one call never overlapped.
/// </summary>
public sealed class IntegrationStub : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<StubReply>> _scripts = new();
    private readonly ConcurrentQueue<StubRequest> _requests = new();
    private WebApplication? _app;

    public string BaseUrl { get; private set; } = "";

    public IReadOnlyList<StubRequest> Requests => _requests.ToArray();

    /// <summary>The reply to requests with no script of their own (call IDs a test cannot know in advance).</summary>
    public StubReply DefaultReply { get; set; } = StubReply.Ok;

    public IReadOnlyList<StubRequest> For(string callId) => _requests.Where(r => r.CallId == callId).OrderBy(r => r.ReceivedAt).ToList();

    /// <summary>The next replies for this call, in order; after them, 200.</summary>
    public void Script(string callId, params StubReply[] replies) => _scripts[callId] = new ConcurrentQueue<StubReply>(replies);

    /// <summary>The next replies to requests that carry no call_id (MiniVoice's POST /v1/calls), in order.</summary>
    public void ScriptNext(params StubReply[] replies) => _scripts[AnyCall] = new ConcurrentQueue<StubReply>(replies);

    private const string AnyCall = "*";

    /// <param name="port">0 for any free port; a fixed one to come up where a client already points.</param>
    public async Task StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/{**path}", HandleAsync);
        await _app.StartAsync();
        BaseUrl = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    private async Task HandleAsync(HttpContext context, string path)
    {
        var receivedAt = DateTimeOffset.UtcNow;
        var body = await JsonSerializer.DeserializeAsync<JsonElement>(context.Request.Body);
        var callId = body.TryGetProperty("call_id", out var id) ? id.GetString() : null;
        var reply = _scripts.TryGetValue(callId ?? AnyCall, out var queue) && queue.TryDequeue(out var next) ? next : DefaultReply;
        if (reply.Gate is { } gate)
        {
            await gate.ArriveAndWaitAsync();
        }
        if (reply.Delay is { } delay)
        {
            try
            {
                await Task.Delay(delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // The client gave up (its timeout): the request still counts as received.
            }
        }
        var request = new StubRequest("/" + path, callId, context.Request.Headers["Idempotency-Key"].ToString(),
            context.Request.Headers.Authorization.ToString(), body, receivedAt, reply.AbortAfterApplying ? 0 : reply.Status)
        {
            FinishedAt = DateTimeOffset.UtcNow,
            TraceParent = context.Request.Headers.TryGetValue("traceparent", out var traceParent) ? traceParent.ToString() : null,
        };
        _requests.Enqueue(request);
        if (reply.AbortAfterApplying)
        {
            // Applied on our side, but the caller never gets the answer.
            context.Abort();
            return;
        }
        if (reply.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = ((int)retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        context.Response.StatusCode = reply.Status;
        if (reply.Body is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(reply.Body);
            return;
        }
        await context.Response.WriteAsJsonAsync(new { ok = reply.Status < 300 });
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
