using FluentValidation;

namespace WebhookReceiver.Calls;

/// <summary>POST /calls body, read leniently so a wrong JSON type is reported with the field's name.</summary>
internal sealed record CreateCallBody(string? From, string? To, bool? Record, IReadOnlyList<Webhooks.FieldError> ShapeErrors)
{
    public static CreateCallBody Read(System.Text.Json.JsonElement root)
    {
        var errors = new List<Webhooks.FieldError>();
        if (root.ValueKind != System.Text.Json.JsonValueKind.Object)
        {
            return new(null, null, null, [new("body", "must be a JSON object")]);
        }
        string? Text(string name)
        {
            if (!root.TryGetProperty(name, out var v) || v.ValueKind == System.Text.Json.JsonValueKind.Null)
            {
                return null;
            }
            if (v.ValueKind == System.Text.Json.JsonValueKind.String)
            {
                return v.GetString();
            }
            errors.Add(new(name, "must be a string"));
            return null;
        }
        bool? record = null;
        if (root.TryGetProperty("record", out var r) && r.ValueKind != System.Text.Json.JsonValueKind.Null)
        {
            if (r.ValueKind is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False)
            {
                record = r.GetBoolean();
            }
            else
            {
                errors.Add(new("record", "must be true or false"));
            }
        }
        return new(Text("from"), Text("to"), record, errors);
    }
}

internal sealed partial class CreateCallValidator : AbstractValidator<CreateCallBody>
{

    public CreateCallValidator()
    {
        RuleForEach(x => x.ShapeErrors)
            .Custom((e, ctx) => ctx.AddFailure(new FluentValidation.Results.ValidationFailure(e.Field, e.Message)));
        RuleFor(x => x.From).NotEmpty().WithMessage("is required").Unless(x => x.ShapeErrors.Any(e => e.Field is "from" or "body"))
            .Matches(PhoneNumber.E164()).WithMessage("must be an E.164 number such as +15551230001").OverridePropertyName("from");
        RuleFor(x => x.To).NotEmpty().WithMessage("is required").Unless(x => x.ShapeErrors.Any(e => e.Field is "to" or "body"))
            .Matches(PhoneNumber.E164()).WithMessage("must be an E.164 number such as +15551230002").OverridePropertyName("to");
    }
}
