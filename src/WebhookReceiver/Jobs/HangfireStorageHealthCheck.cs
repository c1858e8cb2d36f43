using Hangfire;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WebhookReceiver.Jobs;

internal sealed class HangfireStorageHealthCheck(IServiceProvider services) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            // Resolved lazily: building the storage itself needs the database.
            var storage = services.GetRequiredService<JobStorage>();
            using var connection = storage.GetConnection();
            connection.GetAllItemsFromSet("webhookreceiver:health");
            return Task.FromResult(HealthCheckResult.Healthy());
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("Hangfire storage is unreachable: " + ex.GetType().Name));
        }
    }
}
