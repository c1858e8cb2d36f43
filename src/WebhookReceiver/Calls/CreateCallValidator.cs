using FluentValidation;

namespace WebhookReceiver.Calls;

internal sealed record CreateCallBody(string? From, string? To, bool? Record);

internal sealed partial class CreateCallValidator : AbstractValidator<CreateCallBody>
{
    [System.Text.RegularExpressions.GeneratedRegex(@"^\+?[1-9][0-9]{1,14}\z")]
    private static partial System.Text.RegularExpressions.Regex E164();

    public CreateCallValidator()
    {
        RuleFor(x => x.From).NotEmpty().WithMessage("is required").Matches(E164())
            .WithMessage("must be an E.164 number such as +15551230001").OverridePropertyName("from");
        RuleFor(x => x.To).NotEmpty().WithMessage("is required").Matches(E164())
            .WithMessage("must be an E.164 number such as +15551230002").OverridePropertyName("to");
    }
}
