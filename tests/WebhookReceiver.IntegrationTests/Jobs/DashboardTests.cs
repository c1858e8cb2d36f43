using System.Net;
using WebhookReceiver.IntegrationTests.Calls;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Jobs;

public sealed class DashboardTests : IClassFixture<OperatorAccessTests.WithDashboardCredentials>
{
    private readonly OperatorAccessTests.WithDashboardCredentials _app;

    public DashboardTests(OperatorAccessTests.WithDashboardCredentials app) => _app = app;

    [Theory]
    [InlineData(null)]
    [InlineData("wrong")]
    public async Task The_dashboard_refuses_missing_or_wrong_operator_credentials(string? password)
    {
        using var client = _app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/hangfire");
        if (password is not null)
        {
            request.Headers.Authorization = ReceiverFactory.BasicHeader("ops", password);
        }

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Basic", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_dashboard_opens_with_operator_credentials_and_hides_the_connection_string()
    {
        using var client = _app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/hangfire/jobs/failed");
        request.Headers.Authorization = ReceiverFactory.BasicHeader("ops", OperatorAccessTests.WithDashboardCredentials.Password);

        using var response = await client.SendAsync(request);
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("WebhookReceiver jobs", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Password=", html, StringComparison.OrdinalIgnoreCase);
    }
}
