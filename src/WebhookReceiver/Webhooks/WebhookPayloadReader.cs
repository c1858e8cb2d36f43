using System.Globalization;
using System.Text.Json;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// Reads a parsed body into <see cref="WebhookPayload"/>, tolerating wrong JSON types so that every bad
/// field is named in one answer instead of failing on the first.
/// </summary>
internal static class WebhookPayloadReader
{
    public static WebhookPayload Read(JsonElement root)
    {
        var errors = new List<FieldError>();
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError("body", "must be a JSON object"));
            return new WebhookPayload { ShapeErrors = errors };
        }

        var createdAtText = String(root, "created_at", "created_at", errors);
        var payload = new WebhookPayload
        {
            Event = String(root, "event", "event", errors),
            CreatedAtText = createdAtText,
            CreatedAt = Rfc3339.TryParse(createdAtText, out var at) ? at : null,
            Variables = Variables(root, errors),
        };
        ObjectOrNull(root, "data", "data", errors);

        if (!TryObject(root, "call", "call", errors, out var call))
        {
            return payload with { ShapeErrors = errors };
        }
        return payload with
        {
            HasCall = true,
            CallId = String(call, "id", "call.id", errors),
            CustomerId = String(call, "customer_id", "call.customer_id", errors),
            ApplicationId = String(call, "application_id", "call.application_id", errors),
            Status = String(call, "status", "call.status", errors),
            Direction = String(call, "direction", "call.direction", errors),
            From = String(call, "from", "call.from", errors),
            To = String(call, "to", "call.to", errors),
            ShapeErrors = errors,
        };
    }

    private static string? String(JsonElement parent, string name, string field, List<FieldError> errors)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add(new FieldError(field, "must be a string"));
            return null;
        }
        return value.GetString();
    }

    private static bool TryObject(JsonElement parent, string name, string field, List<FieldError> errors, out JsonElement value)
    {
        if (!parent.TryGetProperty(name, out value) || value.ValueKind == JsonValueKind.Null)
        {
            return false;
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError(field, "must be an object"));
            return false;
        }
        return true;
    }

    private static void ObjectOrNull(JsonElement parent, string name, string field, List<FieldError> errors) =>
        TryObject(parent, name, field, errors, out _);

    private static List<KeyValuePair<string, string?>> Variables(JsonElement root, List<FieldError> errors)
    {
        var result = new List<KeyValuePair<string, string?>>();
        if (!TryObject(root, "variables", "variables", errors, out var variables))
        {
            return result;
        }
        foreach (var property in variables.EnumerateObject())
        {
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.String:
                    result.Add(new(property.Name, property.Value.GetString()));
                    break;
                case JsonValueKind.Null:
                    result.Add(new(property.Name, null));
                    break;
                default:
                    errors.Add(new FieldError(VariableField(property.Name), "must be a string, or null to remove the variable"));
                    break;
            }
        }
        return result;
    }

    public static string VariableField(string name) =>
        "variables." + (name.Length > 64 ? name[..64] + "…" : name);
}

/// <summary>RFC 3339 date-time: full date, 'T' (or space), time, and a mandatory offset.</summary>
internal static partial class Rfc3339
{
    [System.Text.RegularExpressions.GeneratedRegex(
        @"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})\z")]
    private static partial System.Text.RegularExpressions.Regex Shape();

    public static bool TryParse(string? text, out DateTimeOffset value)
    {
        value = default;
        var match = text is null ? null : Shape().Match(text);
        if (match is not { Success: true })
        {
            return false;
        }
        // .NET keeps 7 fractional digits; RFC 3339 allows more, so cut the extra ones (rare: only then copy).
        var fraction = match.Groups[1];
        var normalized = fraction.Length > 8 ? text!.Remove(fraction.Index + 8, fraction.Length - 8) : text!;
        return DateTimeOffset.TryParse(normalized, CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out value);
    }
}
