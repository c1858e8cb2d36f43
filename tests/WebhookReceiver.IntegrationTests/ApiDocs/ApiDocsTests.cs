using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.IntegrationTests.Calls;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.ApiDocs;

/// <summary>/openapi/v1.json lists every endpoint the host maps; /docs is a reference page that needs no outside network.</summary>
public sealed partial class ApiDocsTests(OperatorAccessTests.WithDashboardCredentials app) : IClassFixture<OperatorAccessTests.WithDashboardCredentials>
{
    [Theory]
    [InlineData("/openapi/v1.json")]
    [InlineData("/docs")]
    public async Task Docs_need_operator_credentials(string path)
    {
        using var client = app.CreateClient();

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task The_document_describes_every_mapped_route_with_its_methods()
    {
        var document = await GetJsonAsync("/openapi/v1.json");
        var paths = document.GetProperty("paths");

        var routes = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true })
            .ToList();
        Assert.Contains(routes, r => r.RoutePattern.RawText == "/webhooks/minivoice");
        Assert.Contains(routes, r => r.RoutePattern.RawText == "/health/live");
        var missing = new List<string>();
        foreach (var route in routes)
        {
            var path = "/" + RouteParameter().Replace(route.RoutePattern.RawText!.Trim('/'), "{$1}");
            var methods = route.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            foreach (var method in methods)
            {
                if (!paths.TryGetProperty(path, out var item) || !item.TryGetProperty(method.ToLowerInvariant(), out _))
                {
                    missing.Add($"{method} {path}");
                }
            }
        }
        Assert.True(missing.Count == 0, "Not in the document: " + string.Join(", ", missing));
        // The documentation endpoints themselves are not part of the API.
        Assert.False(paths.TryGetProperty("/openapi/{documentName}.json", out _));
    }

    [Fact]
    public async Task Endpoints_have_names_summaries_response_types_and_problem_responses()
    {
        var document = await GetJsonAsync("/openapi/v1.json");
        var paths = document.GetProperty("paths");

        var webhook = paths.GetProperty("/webhooks/minivoice").GetProperty("post");
        Assert.Equal("ReceiveMiniVoiceWebhook", webhook.GetProperty("operationId").GetString());
        Assert.False(string.IsNullOrEmpty(webhook.GetProperty("summary").GetString()));
        Assert.True(webhook.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        var responses = webhook.GetProperty("responses");
        foreach (var status in new[] { "200", "202", "400", "401", "413", "415", "503" })
        {
            Assert.True(responses.TryGetProperty(status, out _), $"webhook response {status} is documented");
        }
        Assert.True(responses.GetProperty("503").GetProperty("content").TryGetProperty("application/problem+json", out _));
        Assert.False(webhook.TryGetProperty("security", out _)); // the webhook is not an operator endpoint

        var getCall = paths.GetProperty("/calls/{callId}").GetProperty("get");
        Assert.Equal("GetCall", getCall.GetProperty("operationId").GetString());
        Assert.True(getCall.GetProperty("responses").TryGetProperty("404", out _));
        Assert.True(getCall.GetProperty("responses").TryGetProperty("401", out _));
        Assert.True(getCall.TryGetProperty("security", out _));
        var created = paths.GetProperty("/calls").GetProperty("post").GetProperty("responses");
        Assert.True(created.TryGetProperty("201", out _) && created.TryGetProperty("402", out _) && created.TryGetProperty("504", out _));
        var listParameters = paths.GetProperty("/calls").GetProperty("get").GetProperty("parameters").EnumerateArray()
            .Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.Contains("cursor", listParameters);
        Assert.Contains("status", listParameters);

        Assert.Equal("Readiness", paths.GetProperty("/health/ready").GetProperty("get").GetProperty("operationId").GetString());
        Assert.Equal("GetMetrics", paths.GetProperty("/metrics").GetProperty("get").GetProperty("operationId").GetString());
        Assert.Equal("basic", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("operator").GetProperty("scheme").GetString());
        // Responses use the service's snake_case names.
        Assert.True(document.GetProperty("components").GetProperty("schemas").GetProperty("CallSummary").GetProperty("properties").TryGetProperty("is_final", out _));
    }

    [Fact]
    public async Task The_reference_page_is_html_whose_scripts_are_served_by_the_service_itself()
    {
        using var client = app.CreateClient();
        // "/docs" redirects here; HttpClient drops credentials on redirects, a browser keeps them for the origin.
        var (status, html, type) = await GetAsync(client, "/docs/");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("text/html", type);
        Assert.Contains("<html", html, StringComparison.OrdinalIgnoreCase);
        // No CDN: nothing the page loads is on another host.
        var sources = ScriptSource().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(sources);
        Assert.DoesNotMatch(ExternalUrl(), string.Join('\n', sources));
        Assert.DoesNotContain("fonts.scalar.com", html, StringComparison.Ordinal);
        foreach (var source in sources)
        {
            var (scriptStatus, script, _) = await GetAsync(client, new Uri(new Uri("http://host/docs/"), source).PathAndQuery);
            Assert.Equal(HttpStatusCode.OK, scriptStatus);
            Assert.True(script.Length > 1000, $"{source} is a real script ({script.Length} characters)");
        }
    }

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var client = app.CreateClient();
        var (status, body, _) = await GetAsync(client, path);
        Assert.True(status == HttpStatusCode.OK, $"{path} answered {(int)status}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<(HttpStatusCode Status, string Body, string? MediaType)> GetAsync(HttpClient client, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = ReceiverFactory.BasicHeader("ops", OperatorAccessTests.WithDashboardCredentials.Password);
        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>"{callId}", "{**path}", "{id:long}" → the parameter's name.</summary>
    [GeneratedRegex(@"\{\**([A-Za-z_][A-Za-z0-9_]*)[^}]*\}")]
    private static partial Regex RouteParameter();

    [GeneratedRegex(@"<script[^>]*\bsrc=""([^""]+)""", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptSource();

    [GeneratedRegex(@"^(https?:)?//", RegexOptions.Multiline)]
    private static partial Regex ExternalUrl();
}
