using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation.Results;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Webhooks;

/// <summary><see cref="WebhookPayloadReader"/> and <see cref="WebhookPayloadValidator"/> together, as the endpoint uses them.</summary>
public sealed class WebhookPayloadValidationTests
{
    private const string Fixture =
        """{"event":"call.completed","created_at":"2026-05-29T12:10:00Z","call":{"id":"call_123","customer_id":"cust_123","application_id":"app_123","status":"completed","direction":"inbound","from":"+15551230001","to":"+15551230002"},"variables":{},"data":{}}""";

    private static readonly WebhookPayloadValidator Validator = new();

    private static List<ValidationFailure> Errors(string json)
    {
        using var document = JsonDocument.Parse(json);
        var payload = WebhookPayloadReader.Read(document.RootElement);
        return Validator.Validate(payload).Errors;
    }

    private static string[] Fields(string json) => Errors(json).Select(e => e.PropertyName).ToArray();

    private static string With(Action<JsonObject> change)
    {
        var root = JsonNode.Parse(Fixture)!.AsObject();
        change(root);
        return root.ToJsonString();
    }

    private static JsonObject Call(JsonObject root) => root["call"]!.AsObject();

    private static JsonObject Variables(JsonObject root) => root["variables"]!.AsObject();

    // ---- the fixture and what the reader takes from it

    [Fact]
    public void Fixture_event_is_valid()
    {
        Assert.Empty(Errors(Fixture));
    }

    [Fact]
    public void Reader_takes_every_field_of_the_fixture_event()
    {
        using var document = JsonDocument.Parse(Fixture);

        var payload = WebhookPayloadReader.Read(document.RootElement);

        Assert.Equal("call.completed", payload.Event);
        Assert.Equal("2026-05-29T12:10:00Z", payload.CreatedAtText);
        Assert.Equal(new DateTimeOffset(2026, 5, 29, 12, 10, 0, TimeSpan.Zero), payload.CreatedAt);
        Assert.True(payload.HasCall);
        Assert.Equal("call_123", payload.CallId);
        Assert.Equal("cust_123", payload.CustomerId);
        Assert.Equal("app_123", payload.ApplicationId);
        Assert.Equal("completed", payload.Status);
        Assert.Equal("inbound", payload.Direction);
        Assert.Equal("+15551230001", payload.From);
        Assert.Equal("+15551230002", payload.To);
        Assert.Empty(payload.Variables);
        Assert.Empty(payload.ShapeErrors);
    }

    [Fact]
    public void Unknown_event_type_is_valid()
    {
        Assert.Empty(Errors(With(r => r["event"] = "call.transferred")));
    }

    [Fact]
    public void Unknown_call_status_is_valid()
    {
        Assert.Empty(Errors(With(r => Call(r)["status"] = "on_hold")));
    }

    // ---- event

    [Fact]
    public void Missing_event_is_refused_as_required()
    {
        var errors = Errors(With(r => r.Remove("event")));

        var error = Assert.Single(errors);
        Assert.Equal("event", error.PropertyName);
        Assert.Equal("is required", error.ErrorMessage);
    }

    [Fact]
    public void Null_event_is_refused_as_required()
    {
        var error = Assert.Single(Errors(With(r => r["event"] = null)));
        Assert.Equal("event", error.PropertyName);
        Assert.Equal("is required", error.ErrorMessage);
    }

    [Theory]
    [InlineData("Call.Completed")]
    [InlineData("CALL.COMPLETED")]
    [InlineData("1call.completed")]
    [InlineData("_call")]
    [InlineData(".call")]
    [InlineData("call-completed")]
    [InlineData("call completed")]
    [InlineData("")]
    public void Event_not_matching_the_name_pattern_is_refused(string name)
    {
        Assert.Contains("event", Fields(With(r => r["event"] = name)));
        Assert.All(Fields(With(r => r["event"] = name)), f => Assert.Equal("event", f));
    }

    [Theory]
    [InlineData("call.completed\n")]
    [InlineData("call.completed\r\n")]
    public void Event_with_a_trailing_line_break_is_refused(string name)
    {
        Assert.Equal(["event"], Fields(With(r => r["event"] = name)));
    }

    [Theory]
    [InlineData("c")]
    [InlineData("call.completed")]
    [InlineData("call_2.state.v1")]
    public void Event_matching_the_name_pattern_is_valid(string name)
    {
        Assert.Empty(Errors(With(r => r["event"] = name)));
    }

    [Fact]
    public void Event_of_64_characters_is_valid()
    {
        Assert.Empty(Errors(With(r => r["event"] = "c" + new string('x', 63))));
    }

    [Fact]
    public void Event_of_65_characters_is_refused()
    {
        var error = Assert.Single(Errors(With(r => r["event"] = "c" + new string('x', 64))));
        Assert.Equal("event", error.PropertyName);
        Assert.Equal("must be at most 64 characters", error.ErrorMessage);
    }

    [Fact]
    public void Event_that_is_a_number_is_refused_once_as_not_a_string()
    {
        var error = Assert.Single(Errors(With(r => r["event"] = 42)));
        Assert.Equal("event", error.PropertyName);
        Assert.Equal("must be a string", error.ErrorMessage);
    }

    // ---- created_at

    [Fact]
    public void Missing_created_at_is_refused_as_required()
    {
        var error = Assert.Single(Errors(With(r => r.Remove("created_at"))));
        Assert.Equal("created_at", error.PropertyName);
        Assert.Equal("is required", error.ErrorMessage);
    }

    [Theory]
    [InlineData("2026-05-29")]
    [InlineData("yesterday")]
    [InlineData("2026-05-29T12:10:00")]
    [InlineData("2026-05-29T12:10Z")]
    [InlineData("2026-05-29T12:10:00+0200")]
    [InlineData("29/05/2026 12:10:00Z")]
    [InlineData("2026-02-30T12:10:00Z")]
    [InlineData("2026-05-29T25:10:00Z")]
    [InlineData("2026-05-29T12:10:00.Z")]
    [InlineData("1780056600")]
    [InlineData("2026-05-29T12:10:00Z\n")]
    public void Created_at_that_is_not_rfc_3339_is_refused(string text)
    {
        var error = Assert.Single(Errors(With(r => r["created_at"] = text)));
        Assert.Equal("created_at", error.PropertyName);
    }

    [Fact]
    public void Created_at_that_is_a_number_is_refused_once_as_not_a_string()
    {
        var error = Assert.Single(Errors(With(r => r["created_at"] = 1780056600)));
        Assert.Equal("created_at", error.PropertyName);
        Assert.Equal("must be a string", error.ErrorMessage);
    }

    [Theory]
    [InlineData("2026-05-29T14:10:00+02:00", "2026-05-29T12:10:00.0000000Z")]
    [InlineData("2026-05-29T07:10:00-05:00", "2026-05-29T12:10:00.0000000Z")]
    [InlineData("2026-05-29T12:10:00.5Z", "2026-05-29T12:10:00.5000000Z")]
    [InlineData("2026-05-29T12:10:00.123456789+00:00", "2026-05-29T12:10:00.1234567Z")]
    [InlineData("2026-05-29t12:10:00z", "2026-05-29T12:10:00.0000000Z")]
    [InlineData("2026-05-29 12:10:00Z", "2026-05-29T12:10:00.0000000Z")]
    public void Created_at_with_an_offset_or_fractional_seconds_is_accepted_as_that_instant(string text, string utc)
    {
        var json = With(r => r["created_at"] = text);
        using var document = JsonDocument.Parse(json);

        var payload = WebhookPayloadReader.Read(document.RootElement);

        Assert.Empty(Validator.Validate(payload).Errors);
        Assert.Equal(DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture), payload.CreatedAt);
    }

    // ---- call

    [Fact]
    public void Missing_call_is_refused_as_required()
    {
        var error = Assert.Single(Errors(With(r => r.Remove("call"))));
        Assert.Equal("call", error.PropertyName);
        Assert.Equal("is required", error.ErrorMessage);
    }

    [Fact]
    public void Call_that_is_not_an_object_is_refused_once_as_such()
    {
        var error = Assert.Single(Errors(With(r => r["call"] = "call_123")));
        Assert.Equal("call", error.PropertyName);
        Assert.Equal("must be an object", error.ErrorMessage);
    }

    [Fact]
    public void Missing_call_id_is_refused_as_required()
    {
        var error = Assert.Single(Errors(With(r => Call(r).Remove("id"))));
        Assert.Equal("call.id", error.PropertyName);
        Assert.Equal("is required", error.ErrorMessage);
    }

    [Fact]
    public void Empty_call_id_is_refused()
    {
        Assert.Equal(["call.id"], Fields(With(r => Call(r)["id"] = "")));
    }

    [Fact]
    public void Call_id_of_128_characters_is_valid()
    {
        Assert.Empty(Errors(With(r => Call(r)["id"] = new string('c', 128))));
    }

    [Fact]
    public void Call_id_of_129_characters_is_refused()
    {
        var error = Assert.Single(Errors(With(r => Call(r)["id"] = new string('c', 129))));
        Assert.Equal("call.id", error.PropertyName);
        Assert.Equal("must be at most 128 characters", error.ErrorMessage);
    }

    [Fact]
    public void Call_id_that_is_a_number_is_reported_once_as_not_a_string()
    {
        var error = Assert.Single(Errors(With(r => Call(r)["id"] = 123)));
        Assert.Equal("call.id", error.PropertyName);
        Assert.Equal("must be a string", error.ErrorMessage);
    }

    [Theory]
    [InlineData("sideways")]
    [InlineData("Inbound")]
    [InlineData("")]
    public void Direction_other_than_inbound_or_outbound_is_refused(string direction)
    {
        Assert.Equal(["call.direction"], Fields(With(r => Call(r)["direction"] = direction)));
    }

    [Theory]
    [InlineData("inbound")]
    [InlineData("outbound")]
    public void Direction_inbound_or_outbound_is_valid(string direction)
    {
        Assert.Empty(Errors(With(r => Call(r)["direction"] = direction)));
    }

    [Fact]
    public void Missing_direction_from_and_to_are_valid()
    {
        Assert.Empty(Errors(With(r =>
        {
            Call(r).Remove("direction");
            Call(r).Remove("from");
            Call(r).Remove("to");
        })));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData("+")]
    [InlineData("+0123456789")]
    [InlineData("+1")]
    [InlineData("+1555123000123456")]
    [InlineData("+1 555 123 0001")]
    [InlineData("++15551230001")]
    [InlineData("+15551230001\n")]
    public void From_that_is_not_e164_is_refused(string from)
    {
        Assert.Equal(["call.from"], Fields(With(r => Call(r)["from"] = from)));
    }

    [Theory]
    [InlineData("+15551230001")]
    [InlineData("15551230001")]
    [InlineData("+12")]
    [InlineData("+155512300012345")]
    public void From_that_is_e164_is_valid(string from)
    {
        Assert.Empty(Errors(With(r => Call(r)["from"] = from)));
    }

    [Fact]
    public void To_that_is_not_e164_is_refused()
    {
        Assert.Equal(["call.to"], Fields(With(r => Call(r)["to"] = "abc")));
    }

    [Fact]
    public void Status_of_65_characters_is_refused()
    {
        Assert.Equal(["call.status"], Fields(With(r => Call(r)["status"] = new string('s', 65))));
    }

    [Fact]
    public void Customer_id_that_is_a_number_is_refused_as_not_a_string()
    {
        var error = Assert.Single(Errors(With(r => Call(r)["customer_id"] = 7)));
        Assert.Equal("call.customer_id", error.PropertyName);
        Assert.Equal("must be a string", error.ErrorMessage);
    }

    // ---- variables

    [Fact]
    public void Variable_name_of_128_characters_is_accepted()
    {
        Assert.Empty(Errors(With(r => Variables(r)[new string('v', 128)] = "x")));
    }

    [Fact]
    public void Variable_name_of_129_characters_is_refused()
    {
        var error = Assert.Single(Errors(With(r => Variables(r)[new string('v', 129)] = "x")));
        // Long names are cut to 64 characters in the field name.
        Assert.Equal("variables." + new string('v', 64) + "…", error.PropertyName);
        Assert.Contains("1 to 128", error.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_variable_name_is_refused()
    {
        Assert.Equal(["variables."], Fields(With(r => Variables(r)[""] = "x")));
    }

    [Fact]
    public void Variable_value_of_4096_characters_is_accepted()
    {
        Assert.Empty(Errors(With(r => Variables(r)["colour"] = new string('x', 4096))));
    }

    [Fact]
    public void Variable_value_of_4097_characters_is_refused()
    {
        var error = Assert.Single(Errors(With(r => Variables(r)["colour"] = new string('x', 4097))));
        Assert.Equal("variables.colour", error.PropertyName);
        Assert.Contains("4096", error.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_variable_value_is_accepted_and_read_as_a_removal()
    {
        var json = With(r => Variables(r)["colour"] = null);
        using var document = JsonDocument.Parse(json);

        var payload = WebhookPayloadReader.Read(document.RootElement);

        Assert.Empty(Validator.Validate(payload).Errors);
        var variable = Assert.Single(payload.Variables);
        Assert.Equal("colour", variable.Key);
        Assert.Null(variable.Value);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("true")]
    [InlineData("{}")]
    [InlineData("[\"red\"]")]
    public void Variable_value_that_is_not_a_string_or_null_is_refused(string value)
    {
        var error = Assert.Single(Errors(With(r => Variables(r)["colour"] = JsonNode.Parse(value))));
        Assert.Equal("variables.colour", error.PropertyName);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"colour=red\"")]
    [InlineData("1")]
    public void Variables_that_are_not_an_object_are_refused(string value)
    {
        var error = Assert.Single(Errors(With(r => r["variables"] = JsonNode.Parse(value))));
        Assert.Equal("variables", error.PropertyName);
        Assert.Equal("must be an object", error.ErrorMessage);
    }

    [Fact]
    public void Missing_variables_and_data_are_valid()
    {
        Assert.Empty(Errors(With(r =>
        {
            r.Remove("variables");
            r.Remove("data");
        })));
    }

    // ---- data and body

    [Theory]
    [InlineData("\"x\"")]
    [InlineData("[]")]
    [InlineData("3")]
    public void Data_that_is_not_an_object_is_refused(string value)
    {
        var error = Assert.Single(Errors(With(r => r["data"] = JsonNode.Parse(value))));
        Assert.Equal("data", error.PropertyName);
        Assert.Equal("must be an object", error.ErrorMessage);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[" + Fixture + "]")]
    [InlineData("\"call.completed\"")]
    [InlineData("42")]
    [InlineData("null")]
    public void Body_that_is_not_an_object_is_refused_as_body(string json)
    {
        var error = Assert.Single(Errors(json), e => e.PropertyName == "body");
        Assert.Equal("must be a JSON object", error.ErrorMessage);
    }

    // ---- several at once

    [Fact]
    public void Several_bad_fields_are_each_named_in_one_result()
    {
        var json = With(r =>
        {
            r["event"] = "Call.Completed";
            r["created_at"] = "yesterday";
            r["data"] = "x";
            Call(r)["id"] = 123;
            Call(r)["direction"] = "sideways";
            Call(r)["from"] = "abc";
            Call(r)["to"] = "+0";
            Variables(r)["colour"] = 5;
        });

        var fields = Fields(json).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(
            new[] { "call.direction", "call.from", "call.id", "call.to", "created_at", "data", "event", "variables.colour" },
            fields);
    }
}
