using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Reliability;

/// <summary>
/// Properties of reading and validating an event over generated bodies: every field of the wrong JSON type is
/// named (once the body is valid JSON, nothing else decides), variable limits count Unicode characters, and
/// RFC 3339 times round-trip.
/// </summary>
public sealed class PayloadPropertyTests
{
    private static readonly JsonDocumentOptions Options = new() { AllowDuplicateProperties = false, MaxDepth = 64 };
    private static readonly WebhookPayloadValidator Validator = new();

    private enum Kind { Valid, Null, Missing, Number, Boolean, Object, Array }

    // The string fields, a valid value for each, and whether the contract requires it.
    private static readonly (string Field, string Valid, bool Required)[] StringFields =
    [
        ("event", "call.completed", true),
        ("created_at", "2026-05-29T12:00:00+02:00", true),
        ("call.id", "call_123", true),
        ("call.customer_id", "cust_123", false),
        ("call.application_id", "app_123", false),
        ("call.status", "completed", false),
        ("call.direction", "inbound", false),
        ("call.from", "+15551230001", false),
        ("call.to", "+15551230002", false),
    ];

    private static readonly Gen<Kind> AnyKind = Gen.OneOf(Enum.GetValues<Kind>());

    [Fact]
    public void A_field_is_named_in_the_errors_exactly_when_it_has_the_wrong_type_or_a_required_one_is_absent()
    {
        var variables = Gen.Select(Gen.Char["abc"].Array[1, 3].Select(c => new string(c)), AnyKind).Array[0, 4];
        Gen.Select(AnyKind.Array[StringFields.Length], variables).Sample((kinds, vars) =>
        {
            var root = new JsonObject { ["call"] = new JsonObject() };
            for (var i = 0; i < StringFields.Length; i++)
            {
                Set(root, StringFields[i].Field, kinds[i], StringFields[i].Valid);
            }
            var variableObject = new JsonObject();
            var expectedVariables = new HashSet<string>();
            foreach (var (name, kind) in vars.DistinctBy(v => v.Item1))
            {
                if (kind != Kind.Missing)
                {
                    variableObject[name] = Value(kind, "v");
                }
                if (kind is Kind.Number or Kind.Boolean or Kind.Object or Kind.Array)
                {
                    expectedVariables.Add("variables." + name);
                }
            }
            root["variables"] = variableObject;

            var named = Errors(root);

            for (var i = 0; i < StringFields.Length; i++)
            {
                var (field, _, required) = StringFields[i];
                var wrongType = kinds[i] is Kind.Number or Kind.Boolean or Kind.Object or Kind.Array;
                var absent = kinds[i] is Kind.Null or Kind.Missing;
                Assert.True((wrongType || (required && absent)) == named.Contains(field),
                    $"{field} as {kinds[i]}: named = {named.Contains(field)}; errors: {string.Join(", ", named)}");
            }
            Assert.Equal(expectedVariables, named.Where(n => n.StartsWith("variables.", StringComparison.Ordinal)).ToHashSet());
        });
    }

    [Fact]
    public void Variable_names_and_values_are_limited_in_Unicode_characters_not_UTF16_units_or_bytes()
    {
        // Around the 4096 limit, with astral characters (two UTF-16 units, four UTF-8 bytes each) mixed in.
        var text = Gen.Int[4090, 4102].SelectMany(total => Gen.Int[0, total].Select(astral => (Astral: astral, Plain: total - astral)));
        Gen.Select(text, Gen.Int[0, 70], Gen.Int[0, 70]).Sample((value, nameAstral, namePlain) =>
        {
            var valueText = Repeat("\U0001F600", value.Astral) + new string('v', value.Plain);
            var name = Repeat("\U0001D11E", nameAstral) + new string('n', namePlain);
            var characters = value.Astral + value.Plain;
            var nameCharacters = nameAstral + namePlain;
            var root = Valid();
            root["variables"] = new JsonObject { [name] = valueText };

            var named = Errors(root);

            var expectError = characters > 4096 || nameCharacters is 0 or > 128;
            Assert.True(expectError == named.Any(n => n.StartsWith("variables.", StringComparison.Ordinal)),
                $"value {characters} characters, name {nameCharacters} characters: errors {string.Join(", ", named)}");
        });
    }

    [Fact]
    public void Any_RFC_3339_time_with_any_offset_and_precision_reads_back_as_the_same_instant()
    {
        var instant = Gen.Long[DateTimeOffset.Parse("1971-01-01T00:00:00Z", CultureInfo.InvariantCulture).UtcTicks,
            DateTimeOffset.Parse("2199-01-01T00:00:00Z", CultureInfo.InvariantCulture).UtcTicks];
        Gen.Select(instant, Gen.Int[-14 * 60, 14 * 60], Gen.Int[0, 9], Gen.Bool).Sample((ticks, offsetMinutes, digits, lowerCase) =>
        {
            var utc = new DateTimeOffset(ticks, TimeSpan.Zero);
            var local = utc.ToOffset(TimeSpan.FromMinutes(offsetMinutes));
            var fraction = digits == 0 ? "" : "." + local.ToString("fffffff", CultureInfo.InvariantCulture).PadRight(9, '0')[..digits];
            var zone = offsetMinutes == 0 && lowerCase ? "z" : local.ToString("zzz", CultureInfo.InvariantCulture);
            var text = local.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + (lowerCase ? "t" : "T")
                       + local.ToString("HH:mm:ss", CultureInfo.InvariantCulture) + fraction + zone;
            var truncated = new DateTimeOffset(ticks - ticks % (long)Math.Pow(10, 7 - Math.Min(digits, 7)), TimeSpan.Zero);

            Assert.True(Rfc3339.TryParse(text, out var parsed), text);
            Assert.Equal(truncated, parsed);
            Assert.Equal(TimeSpan.Zero, parsed.Offset);
        });
    }

    [Fact]
    public void Any_string_is_read_as_a_time_or_refused_without_throwing()
    {
        var near = Gen.Char["0123456789-:.+TZtz "].Array[0, 40].Select(c => new string(c));
        Gen.OneOf(Gen.String, near).Sample(text =>
        {
            if (Rfc3339.TryParse(text, out var parsed))
            {
                Assert.Equal(TimeSpan.Zero, parsed.Offset);
            }
        });
    }

    private static HashSet<string> Errors(JsonObject root)
    {
        using var document = JsonDocument.Parse(Encoding.UTF8.GetBytes(root.ToJsonString()), Options);
        var payload = WebhookPayloadReader.Read(document.RootElement);
        return Validator.Validate(payload).Errors.Select(e => e.PropertyName).ToHashSet();
    }

    private static JsonObject Valid()
    {
        var root = new JsonObject { ["call"] = new JsonObject() };
        foreach (var (field, valid, _) in StringFields)
        {
            Set(root, field, Kind.Valid, valid);
        }
        return root;
    }

    private static void Set(JsonObject root, string field, Kind kind, string valid)
    {
        var parent = field.StartsWith("call.", StringComparison.Ordinal) ? root["call"]!.AsObject() : root;
        var name = field.StartsWith("call.", StringComparison.Ordinal) ? field["call.".Length..] : field;
        if (kind != Kind.Missing)
        {
            parent[name] = Value(kind, valid);
        }
    }

    private static JsonNode? Value(Kind kind, string valid) => kind switch
    {
        Kind.Valid => valid,
        Kind.Number => 42,
        Kind.Boolean => true,
        Kind.Object => new JsonObject { ["v"] = valid },
        Kind.Array => new JsonArray(valid),
        _ => null,
    };

    private static string Repeat(string text, int count) => string.Concat(Enumerable.Repeat(text, count));
}
