using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using WebhookReceiver.IntegrationTests.Calls;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Reliability;

/// <summary>
/// Call records hold phone numbers and operator endpoints change work: every endpoint the app maps, except the
/// webhook receiver and the health probes, must refuse a request without operator credentials. Enumerated from
/// the app's own routes, so an endpoint added later is covered without touching this test.
/// </summary>
public sealed partial class OperatorEndpointsTests(OperatorAccessTests.WithDashboardCredentials app)
    : IClassFixture<OperatorAccessTests.WithDashboardCredentials>
{
    private static readonly string[] Public = ["/webhooks/minivoice", "/health/live", "/health/ready"];

    [Fact]
    public async Task Every_endpoint_but_the_webhook_and_health_refuses_a_request_without_operator_credentials()
    {
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => (Path: Concrete(e.RoutePattern.RawText ?? ""), Methods: e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]))
            .Where(e => !Public.Contains(e.Path))
            .ToList();
        Assert.Contains(endpoints, e => e.Path == "/actions/1/retry");
        Assert.Contains(endpoints, e => e.Path == "/calls/1");

        using var client = app.CreateClient();
        foreach (var (path, methods) in endpoints)
        {
            foreach (var method in methods)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                using var response = await client.SendAsync(request);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} answered {(int)response.StatusCode} without credentials");
            }
        }
    }

    [Fact]
    public async Task An_operator_request_is_audited_with_the_operator_name()
    {
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/actions/987654321/retry");
        request.Headers.Authorization = ReceiverFactory.BasicHeader("ops", OperatorAccessTests.WithDashboardCredentials.Password);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains(app.Logs.Events, e => e.Properties.TryGetValue("Operator", out var who) && who.ToString() == "\"ops\""
                                              && e.Properties["Path"].ToString() == "\"/actions/987654321/retry\"");
        Assert.DoesNotContain(app.Logs.Events, e => e.RenderMessage().Contains(OperatorAccessTests.WithDashboardCredentials.Password, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Sec-Fetch-Site", "cross-site", HttpStatusCode.Forbidden)]
    [InlineData("Sec-Fetch-Site", "same-site", HttpStatusCode.Forbidden)]
    [InlineData("Origin", "https://evil.example", HttpStatusCode.Forbidden)]
    [InlineData("Sec-Fetch-Site", "same-origin", HttpStatusCode.NotFound)]
    [InlineData("Sec-Fetch-Site", "none", HttpStatusCode.NotFound)]
    public async Task A_request_a_browser_marks_as_cross_site_is_refused_even_with_credentials(string header, string value, HttpStatusCode expected)
    {
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/actions/987654321/retry");
        request.Headers.Authorization = ReceiverFactory.BasicHeader("ops", OperatorAccessTests.WithDashboardCredentials.Password);
        request.Headers.Add(header, value);

        using var response = await client.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
    }

    /// <summary>"/actions/{actionId:long}/retry" → "/actions/1/retry"; a catch-all is dropped ("/hangfire/{**path}" → "/hangfire").</summary>
    private static string Concrete(string pattern) =>
        "/" + Parameter().Replace(pattern.TrimStart('/'), m => m.Value.StartsWith("{*", StringComparison.Ordinal) ? "" : "1").TrimEnd('/');

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex Parameter();
}
