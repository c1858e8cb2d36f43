using Microsoft.Extensions.Options;
using WebhookReceiver.ApiDocs;

namespace WebhookReceiver.Operators;

internal static class OperatorAccessSetup
{
    public static IHostApplicationBuilder AddOperatorAccess(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<OperatorOptions>().BindConfiguration(OperatorOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<OperatorOptions>, OperatorOptionsValidation>();
        builder.Services.AddSingleton<FailedLogins>();
        builder.Services.AddSingleton<OperatorAccess>();
        return builder;
    }

    public static RouteGroupBuilder RequireOperator(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter<OperatorAccessFilter>();
        // Documented where it is enforced: every operator group shows its HTTP Basic requirement in /openapi/v1.json.
        return group.DocumentOperatorAccess();
    }

    /// <summary>The same check for an endpoint that is no route handler (the Hangfire dashboard); its reads are not audited.</summary>
    public static TBuilder RequireOperatorAuditingWrites<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(OperatorAuditWritesOnly.Instance).AddEndpointFilter<TBuilder, OperatorAccessFilter>();
}
