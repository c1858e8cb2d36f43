using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.MiniVoice;

internal sealed record CreateCallRequest(string From, string To, bool Record);

/// <summary>MiniVoice's answer to POST /v1/calls (fixtures/create-call.response.json).</summary>
internal sealed record CreatedCall(
    string Id, string? Status, string? Direction, string? From, string? To, string? ApplicationId, string? CustomerId,
    DateTimeOffset? CreatedAt);

internal abstract record CreateCallResult
{
    public sealed record Created(CreatedCall Call) : CreateCallResult;
    /// <summary>MiniVoice answered with an error; <see cref="Code"/> from its body when it had one.</summary>
    public sealed record Refused(int HttpStatus, string? Code, string? Message) : CreateCallResult;
    public sealed record Unreachable(string Reason) : CreateCallResult;
    public sealed record TimedOut : CreateCallResult;
}

/// <summary>
/// Typed client for MiniVoice's API. One POST /v1/calls is one phone call, so nothing here retries:
/// a request that may have reached MiniVoice is never sent twice.
/// </summary>
internal sealed class MiniVoiceClient(HttpClient http, IOptions<MiniVoiceOptions> options, ILogger<MiniVoiceClient> logger)
{
    private static readonly JsonSerializerOptions Json =
        new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>
    /// Not cancellable by the caller on purpose: once asked, MiniVoice may place the call, and the answer is the only
    /// way to learn its ID. Only <see cref="MiniVoiceOptions.TimeoutSeconds"/> ends the wait.
    /// </summary>
    public async Task<CreateCallResult> CreateCallAsync(CreateCallRequest call)
    {
        var o = options.Value;
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(o.BaseUrl!.TrimEnd('/') + "/"), "v1/calls"))
        {
            Content = System.Net.Http.Json.JsonContent.Create(call, options: Json),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", o.ApiKey);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(o.TimeoutSeconds));
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            if (response.IsSuccessStatusCode && TryRead<CreatedCall>(body) is { Id.Length: > 0 } created)
            {
                return new CreateCallResult.Created(created);
            }
            var error = TryRead<MiniVoiceErrorBody>(body)?.Error;
            // The full body helps whoever debugs a refusal; it never holds our key (that went in a header).
            logger.LogWarning("MiniVoice refused POST /v1/calls with HTTP {Status}: {Body}", (int)response.StatusCode, body);
            return new CreateCallResult.Refused((int)response.StatusCode, error?.Code, error?.Message);
        }
        catch (OperationCanceledException)
        {
            // Nothing else cancels this request: our timeout (or HttpClient's own) ran out.
            logger.LogWarning("MiniVoice did not answer POST /v1/calls within {Timeout} s", o.TimeoutSeconds);
            return new CreateCallResult.TimedOut();
        }
        catch (HttpRequestException ex)
        {
            logger.LogWarning("MiniVoice unreachable for POST /v1/calls: {Error}", ex.InnerException?.Message ?? ex.Message);
            return new CreateCallResult.Unreachable(ex.HttpRequestError.ToString());
        }
    }

    private static T? TryRead<T>(string body) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(body, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed record MiniVoiceErrorBody(MiniVoiceError? Error);

    private sealed record MiniVoiceError(string? Code, string? Message);
}
