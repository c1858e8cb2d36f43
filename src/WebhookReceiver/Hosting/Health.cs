using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

using WebhookReceiver.ApiDocs;

namespace WebhookReceiver.Hosting;

internal static class Health
{
    public static IHostApplicationBuilder AddHealth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks().AddCheck<PostgresHealthCheck>("postgres", tags: ["ready"]);
        return builder;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false })
            .WithName("Liveness").WithSummary("200 while the process runs").WithTags("Health")
            .DocumentResponse(StatusCodes.Status200OK, "text/plain");
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") })
            .WithName("Readiness").WithSummary("200 when PostgreSQL and Hangfire's storage answer, else 503").WithTags("Health")
            .DocumentResponse(StatusCodes.Status200OK, "text/plain")
            .DocumentResponse(StatusCodes.Status503ServiceUnavailable, "text/plain");
        return app;
    }
}

internal sealed class PostgresHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // The message only: an exception's text could carry the host name, never credentials.
            return HealthCheckResult.Unhealthy("PostgreSQL is unreachable: " + ex.GetType().Name);
        }
    }
}
