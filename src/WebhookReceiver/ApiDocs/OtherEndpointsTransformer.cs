using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.OpenApi;

namespace WebhookReceiver.ApiDocs;

/// <summary>
/// ApiExplorer only sees route handlers; endpoints mapped as middleware pipelines (health checks, /metrics, the
/// Hangfire dashboard) are added here from their route metadata (WithName, WithSummary, Produces…), so the
/// document lists every endpoint this process serves.
/// </summary>
internal sealed class OtherEndpointsTransformer(EndpointDataSource endpoints) : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Paths ??= [];
        foreach (var endpoint in endpoints.Endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is { ExcludeFromDescription: true })
            {
                continue;
            }
            var path = PathOf(endpoint.RoutePattern);
            if (!document.Paths.TryGetValue(path, out var item))
            {
                item = new OpenApiPathItem();
                document.Paths[path] = item;
            }
            var pathItem = (OpenApiPathItem)item;
            foreach (var method in MethodsOf(endpoint))
            {
                pathItem.Operations ??= [];
                if (!pathItem.Operations.ContainsKey(method))
                {
                    pathItem.Operations[method] = OperationOf(endpoint, document);
                }
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>The document's form of a route: "/hangfire/{**path}" → "/hangfire/{path}".</summary>
    public static string PathOf(RoutePattern pattern)
    {
        var segments = pattern.PathSegments.Select(s => string.Concat(s.Parts.Select(p => p switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternParameterPart parameter => "{" + parameter.Name + "}",
            RoutePatternSeparatorPart separator => separator.Content,
            _ => "",
        })));
        return "/" + string.Join('/', segments);
    }

    /// <summary>The methods an endpoint answers; none declared (a pipeline) is documented as GET.</summary>
    public static IEnumerable<HttpMethod> MethodsOf(Endpoint endpoint) =>
        endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Select(m => HttpMethod.Parse(m)) ?? [HttpMethod.Get];

    private static OpenApiOperation OperationOf(RouteEndpoint endpoint, OpenApiDocument document)
    {
        var m = endpoint.Metadata;
        var operation = new OpenApiOperation
        {
            OperationId = m.GetMetadata<IEndpointNameMetadata>()?.EndpointName,
            Summary = m.GetMetadata<IEndpointSummaryMetadata>()?.Summary,
            Description = m.GetMetadata<IEndpointDescriptionMetadata>()?.Description,
            Tags = m.GetMetadata<ITagsMetadata>() is { } tags
                ? new HashSet<OpenApiTagReference>(tags.Tags.Select(t => new OpenApiTagReference(t, document)))
                : null,
            Parameters = endpoint.RoutePattern.Parameters.Select(p => (IOpenApiParameter)new OpenApiParameter
            {
                Name = p.Name,
                In = ParameterLocation.Path,
                Required = true,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            }).ToList(),
            Responses = [],
        };
        var produces = m.OfType<IProducesResponseTypeMetadata>().ToList();
        if (produces.Count == 0)
        {
            operation.Responses["200"] = new OpenApiResponse { Description = "OK" };
        }
        foreach (var p in produces)
        {
            operation.Responses[p.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new OpenApiResponse
            {
                Description = p.Description ?? ReasonPhrase(p.StatusCode),
                Content = p.ContentTypes.ToDictionary(c => c, _ => new OpenApiMediaType()),
            };
        }
        if (m.GetMetadata<OperatorOnlyMetadata>() is not null)
        {
            operation.Security =
            [
                new OpenApiSecurityRequirement
                {
                    [new OpenApiSecuritySchemeReference(OperatorAccessTransformer.SchemeName, document)] = [],
                },
            ];
        }
        return operation;
    }

    private static string ReasonPhrase(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Response";
}
