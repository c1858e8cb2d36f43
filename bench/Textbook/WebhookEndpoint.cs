using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace Textbook;

public static class WebhookEndpoint
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    private static readonly string[] FinalStatuses = ["completed", "failed", "busy", "no-answer", "canceled"];
    private static readonly string[] TicketStatuses = ["failed", "busy", "no-answer"];

    public static async Task<IResult> ReceiveAsync(HttpRequest request, TextbookDb db, IConfiguration configuration,
        CancellationToken cancellationToken)
    {
        if (!IsAuthorized(request, configuration))
        {
            return Results.Unauthorized();
        }

        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var raw = await reader.ReadToEndAsync(cancellationToken);
        MiniVoiceEvent? payload;
        try
        {
            payload = JsonSerializer.Deserialize<MiniVoiceEvent>(raw, Json);
        }
        catch (JsonException)
        {
            return Results.Problem(statusCode: 400, title: "The body is not a MiniVoice event.");
        }
        if (payload?.Event is null || payload.CreatedAt is null || string.IsNullOrEmpty(payload.Call?.Id))
        {
            return Results.Problem(statusCode: 400, title: "event, created_at and call.id are required.");
        }

        var callId = payload.Call.Id;
        var createdAt = payload.CreatedAt.Value.UtcDateTime;
        var webhookId = request.Headers["webhook-id"].ToString();
        var identity = webhookId.Length > 0 ? webhookId : $"{callId}|{payload.Event}|{createdAt:O}";

        if (await db.Events.AnyAsync(e => e.Identity == identity, cancellationToken))
        {
            return Results.Ok(new { status = "duplicate", call_id = callId });
        }

        var call = await db.Calls.FindAsync([callId], cancellationToken);
        if (call is null)
        {
            call = new Call { Id = callId, FirstEventAt = createdAt, LastEventAt = createdAt, CreatedAt = DateTime.UtcNow };
            db.Calls.Add(call);
        }
        var wasTicketStatus = call.Status is not null && TicketStatuses.Contains(call.Status);
        Apply(call, payload, createdAt);

        var evt = new WebhookEvent
        {
            Identity = identity,
            WebhookId = webhookId.Length > 0 ? webhookId : null,
            CallId = callId,
            EventType = payload.Event,
            Status = payload.Call.Status,
            CreatedAt = createdAt,
            ReceivedAt = DateTime.UtcNow,
            RawBody = Encoding.UTF8.GetBytes(raw),
            Body = raw,
        };
        db.Events.Add(evt);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The same event delivered twice at the same moment: the other request stored it first.
            if (await db.Events.AsNoTracking().AnyAsync(e => e.Identity == identity, cancellationToken))
            {
                return Results.Ok(new { status = "duplicate", call_id = callId });
            }
            throw;
        }

        if (call.IsFinal)
        {
            BackgroundJob.Enqueue<CallJobs>(jobs => jobs.SyncCrmAsync(callId, evt.Id));
        }
        if (!wasTicketStatus && call.Status is not null && TicketStatuses.Contains(call.Status))
        {
            BackgroundJob.Enqueue<CallJobs>(jobs => jobs.CreateTicketAsync(callId));
        }
        return Results.Json(new { status = "accepted", call_id = callId, event_id = evt.Id }, statusCode: 202);
    }

    // A final status beats a non-final one; otherwise the later event wins.
    private static void Apply(Call call, MiniVoiceEvent payload, DateTime createdAt)
    {
        var source = payload.Call!;
        call.CustomerId = source.CustomerId ?? call.CustomerId;
        call.ApplicationId = source.ApplicationId ?? call.ApplicationId;
        call.Direction = source.Direction ?? call.Direction;
        call.From = source.From ?? call.From;
        call.To = source.To ?? call.To;
        if (source.Status is not null)
        {
            var status = source.Status.ToLowerInvariant().Replace('_', '-');
            var isFinal = FinalStatuses.Contains(status);
            if (call.Status is null || (isFinal && !call.IsFinal) || (isFinal == call.IsFinal && createdAt >= call.StatusAt))
            {
                call.Status = status;
                call.IsFinal = isFinal;
                call.StatusAt = createdAt;
            }
        }
        if (payload.Variables is { Count: > 0 })
        {
            var variables = JsonNode.Parse(call.Variables)!.AsObject();
            foreach (var (name, value) in payload.Variables)
            {
                if (value is null)
                {
                    variables.Remove(name);
                }
                else
                {
                    variables[name] = value;
                }
            }
            call.Variables = variables.ToJsonString();
        }
        call.FirstEventAt = createdAt < call.FirstEventAt ? createdAt : call.FirstEventAt;
        call.LastEventAt = createdAt > call.LastEventAt ? createdAt : call.LastEventAt;
        call.UpdatedAt = DateTime.UtcNow;
    }

    private static bool IsAuthorized(HttpRequest request, IConfiguration configuration)
    {
        var username = configuration["Webhooks:BasicAuth:Username"];
        var password = configuration["Webhooks:BasicAuth:Password"];
        if (string.IsNullOrEmpty(username) || string.IsNullOrEmpty(password))
        {
            return false;
        }
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}"));
        return CryptographicOperations.FixedTimeEquals(
            Encoding.UTF8.GetBytes(request.Headers.Authorization.ToString()), Encoding.UTF8.GetBytes(expected));
    }
}
