using System.Net;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Operators;

/// <summary>
/// Without operator credentials (Dashboard:AllowLocalWithoutCredentials=true), "local" means a loopback TCP peer with no
/// forwarding header. A same-host proxy connects over loopback or a Unix socket and says whom it relays in those headers,
/// so neither a Unix socket nor X-Forwarded-For (also as ASP.NET Core's forwarded-headers middleware rewrites it) may pass.
/// Real processes on real sockets.
/// </summary>
public sealed class LocalRequestTests
{
    [Fact]
    public async Task A_connection_over_a_Unix_socket_has_no_peer_address_and_is_never_local()
    {
        var socket = Path.Combine(Path.GetTempPath(), $"wr-{Guid.NewGuid():N}.sock");
        try
        {
            await Hosts.WithDatabaseAsync("wr_local", async database =>
            {
                await using var app = await AppProcess.StartAsync(LocalOnly(database), unixSocket: socket);
                using var loopback = app.CreateClient();
                using var unix = PeerClients.OverUnixSocket(socket);

                foreach (var path in new[] { "/calls", "/hangfire", "/console" })
                {
                    using var overUnix = await unix.GetAsync(new Uri(path, UriKind.Relative));
                    using var overLoopback = await loopback.GetAsync(new Uri(path, UriKind.Relative));

                    Assert.True(overUnix.StatusCode == HttpStatusCode.Forbidden,
                        $"{path} over the Unix socket answered {(int)overUnix.StatusCode}");
                    Assert.True(overLoopback.StatusCode == HttpStatusCode.OK,
                        $"{path} over loopback answered {(int)overLoopback.StatusCode}");
                }
                // The webhook and health endpoints are no operator endpoints: the socket itself works.
                using var health = await unix.GetAsync(new Uri("/health/live", UriKind.Relative));
                Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            });
        }
        finally
        {
            File.Delete(socket);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_loopback_request_that_carries_a_forwarding_header_is_not_local(bool forwardedHeadersMiddleware)
    {
        await Hosts.WithDatabaseAsync("wr_local", async database =>
        {
            var environment = LocalOnly(database);
            environment["ASPNETCORE_FORWARDEDHEADERS_ENABLED"] = forwardedHeadersMiddleware ? "true" : "false";
            await using var app = await AppProcess.StartAsync(environment);
            using var client = app.CreateClient();

            foreach (var (header, value) in new[]
                     {
                         ("X-Forwarded-For", "127.0.0.1"), ("X-Forwarded-For", "::1"), ("X-Forwarded-For", "203.0.113.7"),
                         ("Forwarded", "for=127.0.0.1"), ("X-Real-IP", "127.0.0.1"),
                     })
            {
                foreach (var path in new[] { "/calls", "/hangfire" })
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, path);
                    request.Headers.Add(header, value);

                    using var response = await client.SendAsync(request);

                    Assert.True(response.StatusCode == HttpStatusCode.Forbidden,
                        $"{path} with {header}: {value} answered {(int)response.StatusCode}");
                }
            }
            using var plain = await client.GetAsync(new Uri("/calls", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        });
    }

    private static Dictionary<string, string?> LocalOnly(string database) => new()
    {
        ["ConnectionStrings__Postgres"] = database,
        ["Webhooks__SigningSecrets__0"] = StandardWebhookSigner.NewSecret(),
        ["Dashboard__Username"] = null,
        ["Dashboard__Password"] = null,
        ["Dashboard__AllowLocalWithoutCredentials"] = "true",
    };
}
