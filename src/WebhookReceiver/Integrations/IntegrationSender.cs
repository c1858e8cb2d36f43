using System.Net.Http.Headers;
using System.Text.Json;

namespace WebhookReceiver.Integrations;

/// <summary>
/// POSTs one action's JSON with its bearer token and Idempotency-Key and classifies the answer. Retrying is
/// Hangfire's job, not this client's: a retry here would hide attempts from the ledger and the dashboard.
/// </summary>
internal sealed class IntegrationSender(IHttpClientFactory clients, TimeProvider clock)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public async Task<ActionOutcome> PostAsync(string clientName, IntegrationOptions options, string path, string idempotencyKey,
        object payload, CancellationToken cancellationToken)
    {
        if (!options.IsConfigured)
        {
            return ActionOutcome.Fatal(null, ActionErrorKind.NotConfigured, $"{clientName}: BaseUrl is not configured");
        }
        var client = clients.CreateClient(clientName);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(options.BaseUrl!.TrimEnd('/') + "/"), path))
        {
            Content = System.Net.Http.Json.JsonContent.Create(payload, payload.GetType(), options: Json),
        };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        if (!string.IsNullOrEmpty(options.ApiToken))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiToken);
        }
        try
        {
            using var response = await client.SendAsync(request, cancellationToken);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return ActionOutcome.Success(status);
            }
            var error = $"HTTP {status} {response.ReasonPhrase}: {await Snippet(response, cancellationToken)}";
            return status is 408 or 429 or >= 500
                ? ActionOutcome.Transient(status, ActionErrorKind.Http, error, RetryAfter(response))
                : ActionOutcome.Fatal(status, ActionErrorKind.Http, error);
        }
        catch (HttpRequestException ex)
        {
            return ActionOutcome.Transient(null, ActionErrorKind.Unreachable, $"{clientName} unreachable ({ex.HttpRequestError}): {ex.InnerException?.Message ?? ex.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ActionOutcome.Transient(null, ActionErrorKind.Timeout, $"{clientName} did not answer within {options.TimeoutSeconds} s");
        }
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }
        return header?.Date is { } date ? date - clock.GetUtcNow() : null;
    }

    private static async Task<string> Snippet(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return body.Length <= 300 ? body : body[..300] + "…";
    }
}
