using System.Net;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Operators;

/// <summary>
/// Outside Development a process that serves operator endpoints will not start without operator credentials (behind a
/// same-host proxy every request looks local), unless local-only access is chosen explicitly. Real processes.
/// </summary>
public sealed class OperatorStartupTests
{
    [Theory]
    [InlineData("all")]
    [InlineData("api")]
    public async Task Outside_Development_a_process_serving_the_API_refuses_to_start_without_operator_credentials(string role)
    {
        await Hosts.WithDatabaseAsync("wr_opstart", async database =>
        {
            var (exitCode, output) = await AppProcess.RunToExitAsync(Environment(database, role, ("Dashboard__Username", null),
                ("Dashboard__Password", null)));

            Assert.NotEqual(0, exitCode);
            var error = Assert.Single(output.Split('\n'), line => line.Contains("\"@l\":\"Error\"", StringComparison.Ordinal));
            Assert.Contains("Dashboard__Username", error, StringComparison.Ordinal);
            Assert.Contains("Dashboard__Password", error, StringComparison.Ordinal);
            Assert.Contains("Dashboard__AllowLocalWithoutCredentials=true", error, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Half_of_the_operator_credentials_is_refused_too()
    {
        await Hosts.WithDatabaseAsync("wr_opstart", async database =>
        {
            var (exitCode, output) = await AppProcess.RunToExitAsync(Environment(database, "all", ("Dashboard__Password", null)));

            Assert.NotEqual(0, exitCode);
            Assert.Contains("Dashboard needs both Username and Password", output, StringComparison.Ordinal);
        });
    }

    /// <summary>
    /// A worker serves no operator endpoint; Development (scripts/run.sh) serves them to local requests; elsewhere
    /// Dashboard:AllowLocalWithoutCredentials=true chooses that. Each starts without credentials; where it serves the API,
    /// a local request reads /calls and the dashboard.
    /// </summary>
    [Theory]
    [InlineData("Production", "worker", null, HttpStatusCode.NotFound)]
    [InlineData("Development", "all", null, HttpStatusCode.OK)]
    [InlineData("Production", "all", "true", HttpStatusCode.OK)]
    public async Task Workers_Development_and_the_explicit_opt_out_start_without_operator_credentials(string environment, string role,
        string? allowLocal, HttpStatusCode calls)
    {
        await Hosts.WithDatabaseAsync("wr_opstart", async database =>
        {
            await using var app = await AppProcess.StartAsync(Environment(database, role, ("Dashboard__Username", null),
                ("Dashboard__Password", null), ("ASPNETCORE_ENVIRONMENT", environment),
                ("Dashboard__AllowLocalWithoutCredentials", allowLocal)));
            using var client = app.CreateClient();

            using var callsResponse = await client.GetAsync(new Uri("/calls", UriKind.Relative));
            using var dashboard = await client.GetAsync(new Uri("/hangfire", UriKind.Relative));

            Assert.Equal(calls, callsResponse.StatusCode);
            Assert.Equal(calls, dashboard.StatusCode);
        });
    }

    private static Dictionary<string, string?> Environment(string database, string role, params (string Key, string? Value)[] overrides)
    {
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Postgres"] = database,
            ["Webhooks__SigningSecrets__0"] = StandardWebhookSigner.NewSecret(),
            ["Role"] = role,
        };
        foreach (var (key, value) in overrides)
        {
            environment[key] = value;
        }
        return environment;
    }
}
