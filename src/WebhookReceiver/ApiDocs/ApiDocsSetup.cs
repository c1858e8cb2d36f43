using Microsoft.OpenApi;
using Scalar.AspNetCore;
using WebhookReceiver.Operators;

namespace WebhookReceiver.ApiDocs;

/// <summary>
/// /openapi/v1.json (Microsoft.AspNetCore.OpenApi) and a browsable reference at /docs (Scalar, its script served
/// from this process: the page works with no outside network). Both operator-only, like the API they describe.
/// </summary>
internal static class ApiDocsSetup
{
    public const string DocumentPath = "/openapi/{documentName}.json";
    public const string ReferencePath = "/docs";

    public static IHostApplicationBuilder AddApiDocs(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOpenApi(o =>
        {
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "WebhookReceiver",
                    Version = typeof(ApiDocsSetup).Assembly.GetName().Version?.ToString(3) ?? "0",
                    Description = "Receives MiniVoice webhooks, keeps every call's history and runs its CRM and ticket work. " +
                                  "Operator endpoints take HTTP Basic with Dashboard:Username/Password (or only local requests " +
                                  "when those are not set); the webhook endpoint takes Standard Webhooks signatures or its own Basic " +
                                  "credentials.",
                };
                return Task.CompletedTask;
            });
            o.AddDocumentTransformer<OtherEndpointsTransformer>();
            o.AddOperationTransformer<OperatorAccessTransformer>();
        });
        return builder;
    }

    public static IEndpointRouteBuilder MapApiDocs(this IEndpointRouteBuilder app)
    {
        var docs = app.MapGroup("").RequireOperator().ExcludeFromDescription();
        docs.MapOpenApi(DocumentPath);
        docs.MapScalarApiReference(ReferencePath, o => o
            .WithTitle("WebhookReceiver API")
            .WithOpenApiRoutePattern(DocumentPath)
            // The default fonts come from Scalar's CDN; the system's own are fine and need no network.
            .DisableDefaultFonts()
            // Nothing about this deployment leaves it: no usage telemetry, no hosted AI agent or MCP server.
            .DisableTelemetry().DisableAgent().DisableMcp());
        return app;
    }
}
