using FluentValidation;

namespace WebhookReceiver.Webhooks;

internal sealed partial class WebhookPayloadValidator : AbstractValidator<WebhookPayload>
{
    // MiniVoice's own limits for call variables.
    public const int MaxVariableNameLength = 128;
    public const int MaxVariableValueLength = 4096;

    [System.Text.RegularExpressions.GeneratedRegex(@"^[a-z][a-z0-9_.]*\z")]
    private static partial System.Text.RegularExpressions.Regex EventName();


    public WebhookPayloadValidator()
    {
        RuleForEach(x => x.ShapeErrors)
            .Custom((error, ctx) => ctx.AddFailure(new FluentValidation.Results.ValidationFailure(error.Field, error.Message)));

        RuleFor(x => x.Event).NotEmpty().WithMessage("is required").Unless(x => HasShapeError(x, "event"))
            .MaximumLength(64).WithMessage("must be at most 64 characters")
            .Matches(EventName()).WithMessage("must match ^[a-z][a-z0-9_.]*$")
            .OverridePropertyName("event");

        RuleFor(x => x.CreatedAtText).NotEmpty().WithMessage("is required").Unless(x => HasShapeError(x, "created_at"))
            .OverridePropertyName("created_at");
        RuleFor(x => x.CreatedAt).NotNull().WithMessage("must be an RFC 3339 date-time, e.g. 2026-05-29T12:10:00Z")
            .When(x => !string.IsNullOrEmpty(x.CreatedAtText)).OverridePropertyName("created_at");

        RuleFor(x => x.HasCall).Equal(true).WithMessage("is required").Unless(x => HasShapeError(x, "call")).OverridePropertyName("call");
        When(x => x.HasCall, () =>
        {
            RuleFor(x => x.CallId).NotEmpty().WithMessage("is required").Unless(x => HasShapeError(x, "call.id"))
                .MaximumLength(128).WithMessage("must be at most 128 characters").OverridePropertyName("call.id");
            RuleFor(x => x.Direction).Must(d => d is null or "inbound" or "outbound")
                .WithMessage("must be 'inbound' or 'outbound'").OverridePropertyName("call.direction");
            RuleFor(x => x.From).Matches(Calls.PhoneNumber.E164()).When(x => x.From is not null)
                .WithMessage("must be an E.164 number such as +15551230001").OverridePropertyName("call.from");
            RuleFor(x => x.To).Matches(Calls.PhoneNumber.E164()).When(x => x.To is not null)
                .WithMessage("must be an E.164 number such as +15551230001").OverridePropertyName("call.to");
            RuleFor(x => x.Status).MaximumLength(64).WithMessage("must be at most 64 characters").OverridePropertyName("call.status");
            RuleFor(x => x.CustomerId).MaximumLength(128).WithMessage("must be at most 128 characters")
                .OverridePropertyName("call.customer_id");
            RuleFor(x => x.ApplicationId).MaximumLength(128).WithMessage("must be at most 128 characters")
                .OverridePropertyName("call.application_id");
        });

        RuleForEach(x => x.Variables).Custom((variable, ctx) =>
        {
            var field = WebhookPayloadReader.VariableField(variable.Key);
            var nameLength = variable.Key.EnumerateRunes().Count();
            if (nameLength == 0 || nameLength > MaxVariableNameLength)
            {
                ctx.AddFailure(new FluentValidation.Results.ValidationFailure(field,
                    $"variable names must be 1 to {MaxVariableNameLength} characters (got {nameLength})"));
            }
            var valueLength = variable.Value?.EnumerateRunes().Count() ?? 0;
            if (valueLength > MaxVariableValueLength)
            {
                ctx.AddFailure(new FluentValidation.Results.ValidationFailure(field,
                    $"variable values must be at most {MaxVariableValueLength} characters (got {valueLength})"));
            }
        });
    }

    // A field of the wrong JSON type is reported once, as such, not also as missing.
    private static bool HasShapeError(WebhookPayload payload, string field) => payload.ShapeErrors.Any(e => e.Field == field);
}
