using System.Net.Http.Headers;

namespace WebhookReceiver.Delivery;

/// <summary>
/// POSTs one action's fixed body with its bearer token and Idempotency-Key and classifies the answer. Never throws
/// (but for our own cancellation): whatever goes wrong becomes an outcome of this one action, so a request that
/// cannot even be built fails alone (kind internal) and never takes its batch down. Retrying is the ledger's
/// job, not this client's: a retry here would hide attempts from the ledger.
/// </summary>
internal sealed class IntegrationSender(IHttpClientFactory clients, TimeProvider clock)
{
    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };

    public async Task<ActionOutcome> PostAsync(
        Destination destination, string idempotencyKey, byte[] body, CancellationToken cancellationToken)
    {
        try
        {
            var options = destination.Options;
            var client = clients.CreateClient(destination.Name);
            using var request = new HttpRequestMessage(
                HttpMethod.Post, new Uri(new Uri(options.BaseUrl!.TrimEnd('/') + "/"), destination.Path))
            {
                Content = new ByteArrayContent(body) { Headers = { ContentType = Json } },
            };
            request.Headers.Add("Idempotency-Key", idempotencyKey);
            if (!string.IsNullOrEmpty(options.ApiToken))
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiToken);
            }
            return await SendAsync(client, request, destination, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return ActionOutcome.Internal($"request could not be built or sent: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private async Task<ActionOutcome> SendAsync(
        HttpClient client, HttpRequestMessage request, Destination destination, CancellationToken ct)
    {
        try
        {
            using var response = await client.SendAsync(request, ct);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return ActionOutcome.Success(status);
            }
            var error = $"HTTP {status} {response.ReasonPhrase}: {await Snippet(response, ct)}";
            // 409 on a repeated key means "the first request is still in progress" (IETF Idempotency-Key draft).
            return status is 408 or 409 or 429 or >= 500
                ? ActionOutcome.Transient(status, ActionErrorKind.Http, error, RetryAfter(response))
                : ActionOutcome.Fatal(status, ActionErrorKind.Http, error);
        }
        catch (HttpRequestException ex)
        {
            return ActionOutcome.Transient(null, ActionErrorKind.Unreachable,
                $"{destination.Name} unreachable ({ex.HttpRequestError}): {ex.InnerException?.Message ?? ex.Message}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return ActionOutcome.Transient(null, ActionErrorKind.Timeout,
                $"{destination.Name} did not answer within {destination.Options.TimeoutSeconds} s");
        }
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        var after = header?.Delta ?? (header?.Date is { } date ? date - clock.GetUtcNow() : null);
        return after > TimeSpan.Zero ? after : null;
    }

    private static async Task<string> Snippet(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return body.Length <= 300 ? body : body[..300] + "…";
    }
}
