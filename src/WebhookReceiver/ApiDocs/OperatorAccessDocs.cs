using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace WebhookReceiver.ApiDocs;

/// <summary>Marks an operator endpoint for the API document (the access filter itself leaves no metadata).</summary>
internal sealed class OperatorOnlyMetadata
{
    public static readonly OperatorOnlyMetadata Instance = new();
}

internal static class OperatorAccessDocs
{
    /// <summary>Documents a group as operator-only: the 401/403/429 problems and the HTTP Basic requirement.</summary>
    public static RouteGroupBuilder DocumentOperatorAccess(this RouteGroupBuilder group) =>
        group.WithMetadata(OperatorOnlyMetadata.Instance)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
}

/// <summary>Adds the HTTP Basic security requirement to operations of operator-only endpoints.</summary>
internal sealed class OperatorAccessTransformer : IOpenApiOperationTransformer
{
    public const string SchemeName = "operator";

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (!context.Description.ActionDescriptor.EndpointMetadata.OfType<OperatorOnlyMetadata>().Any())
        {
            return Task.CompletedTask;
        }
        var document = context.Document;
        if (document is not null)
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes.TryAdd(SchemeName, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "basic",
                Description = "Dashboard:Username / Dashboard:Password. Without them (Development, or " +
                              "Dashboard:AllowLocalWithoutCredentials=true), only local requests are served. " +
                              "Repeated failed logins answer 429.",
            });
        }
        operation.Security ??= [];
        operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeName, document)] = [] });
        return Task.CompletedTask;
    }
}

internal static class QueryParameterDocs
{
    /// <summary>Documents query parameters of an endpoint that parses its query itself (to name each bad one in a 400).</summary>
    public static RouteHandlerBuilder WithQueryParameters(
        this RouteHandlerBuilder builder, params (string Name, string Description)[] parameters) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            foreach (var (name, description) in parameters)
            {
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = name,
                    In = ParameterLocation.Query,
                    Description = description,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                });
            }
            return Task.CompletedTask;
        });
}

internal static class ResponseDocs
{
    /// <summary>Produces(…) for endpoints that are not route handlers (health checks, /metrics).</summary>
    public static TBuilder DocumentResponse<TBuilder>(this TBuilder builder, int statusCode, string contentType)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ProducesResponseTypeMetadata(statusCode, null, [contentType]));
}

internal static class RequestBodyDocs
{
    /// <summary>
    /// Documents a JSON request body for an endpoint that reads its body itself. Not Accepts&lt;T&gt;(): that is
    /// also a routing constraint, and routing would answer a wrong Content-Type with its own bare 415 before the
    /// endpoint's problem response (and metrics) could.
    /// </summary>
    public static RouteHandlerBuilder DocumentJsonBody<TBody>(this RouteHandlerBuilder builder) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var schema = await context.GetOrCreateSchemaAsync(typeof(TBody), null, cancellationToken);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schema } },
            };
        });
}
