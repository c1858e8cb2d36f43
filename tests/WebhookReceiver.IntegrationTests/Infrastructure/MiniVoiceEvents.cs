using System.Text.Json;
using System.Text.Json.Nodes;

namespace WebhookReceiver.IntegrationTests.Infrastructure;

/// <summary>MiniVoice events in the shape of the docs' fixture (Fixtures/webhook.call-completed.json).</summary>
internal static class MiniVoiceEvents
{
    public static string NewCallId() => "call_" + Guid.NewGuid().ToString("N")[..16];

    /// <param name="callFields">Overrides of call fields (customer_id, from, ...); a null value leaves the field out.</param>
    public static string Event(string callId, string eventName, string? status, DateTimeOffset createdAt,
        object? variables = null, object? data = null, string direction = "inbound",
        IReadOnlyDictionary<string, string?>? callFields = null)
    {
        var node = new JsonObject
        {
            ["event"] = eventName,
            ["created_at"] = createdAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture),
            ["call"] = new JsonObject
            {
                ["id"] = callId,
                ["customer_id"] = "cust_123",
                ["application_id"] = "app_123",
                ["status"] = status,
                ["direction"] = direction,
                ["from"] = "+15551230001",
                ["to"] = "+15551230002",
            },
            ["variables"] = variables is null ? new JsonObject() : JsonSerializer.SerializeToNode(variables),
            ["data"] = data is null ? new JsonObject() : JsonSerializer.SerializeToNode(data),
        };
        var call = node["call"]!.AsObject();
        foreach (var (name, value) in callFields ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                call.Remove(name);
            }
            else
            {
                call[name] = value;
            }
        }
        return node.ToJsonString();
    }

    /// <summary>The event without its "data" property (MiniVoice sends none on some events).</summary>
    public static string WithoutData(string json)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        node.Remove("data");
        return node.ToJsonString();
    }

    /// <summary>A fixture file with its call id (and optionally created_at) replaced, so tests do not collide.</summary>
    public static string FromFixture(string fileName, string callId, DateTimeOffset? createdAt = null)
    {
        var node = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", fileName)))!;
        node["call"]!["id"] = callId;
        if (createdAt is { } at)
        {
            node["created_at"] = at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        }
        return node.ToJsonString();
    }
}
