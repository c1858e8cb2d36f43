using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace Textbook;

// Hangfire jobs: send the call's current record to the CRM, open a ticket for a failed call. Hangfire retries
// a job that throws (AutomaticRetry, 10 attempts); the Idempotency-Key lets the remote side drop a repeat.
public sealed class CallJobs(HttpClient http, TextbookDb db, IConfiguration configuration)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public async Task SyncCrmAsync(string callId, long eventId)
    {
        var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == callId);
        await PostAsync(configuration["Crm:BaseUrl"], "calls", $"crm.sync:{eventId}",
            new CrmSync(call.Id, eventId, DateTimeOffset.UtcNow, CallRecord.Of(call)));
    }

    public async Task CreateTicketAsync(string callId)
    {
        var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == callId);
        await PostAsync(configuration["Tickets:BaseUrl"], "tickets", $"ticket.create:{callId}",
            new Ticket(call.Id, $"Call {call.Id} ended: {call.Status}", call.Status, call.CustomerId, CallRecord.Of(call)));
    }

    private async Task PostAsync(string? baseUrl, string path, string idempotencyKey, object payload)
    {
        if (string.IsNullOrEmpty(baseUrl))
        {
            throw new InvalidOperationException($"No base URL configured for /{path}.");
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(baseUrl.TrimEnd('/') + "/"), path))
        {
            Content = JsonContent.Create(payload, payload.GetType(), options: Json),
        };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
    }
}

public sealed record CallRecord(string Id, string? CustomerId, string? ApplicationId, string? Direction, string? From, string? To,
    string? Status, bool IsFinal, DateTime FirstEventAt, DateTime LastEventAt, JsonElement Variables)
{
    public static CallRecord Of(Call c) => new(c.Id, c.CustomerId, c.ApplicationId, c.Direction, c.From, c.To, c.Status, c.IsFinal,
        c.FirstEventAt, c.LastEventAt, JsonElement.Parse(c.Variables));
}

public sealed record CrmSync(string CallId, long EventId, DateTimeOffset SyncedAt, CallRecord Call);

public sealed record Ticket(string CallId, string Subject, string? Status, string? CustomerId, CallRecord Call);
