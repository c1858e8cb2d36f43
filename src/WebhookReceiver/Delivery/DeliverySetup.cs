using Microsoft.Extensions.Options;
using WebhookReceiver.Hosting;

namespace WebhookReceiver.Delivery;

/// <summary>
/// The background work, from the outbox row to the CRM: ledger, dispatcher, batch job, destinations (limits,
/// breaker, pause), senders and payloads, operator repairs, failure groups, alerts, metrics.
/// </summary>
internal static class DeliverySetup
{
    public static IHostApplicationBuilder AddDelivery(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<CrmOptions>().BindConfiguration(CrmOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<TicketOptions>().BindConfiguration(TicketOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AlertOptions>().BindConfiguration(AlertOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<DestinationCatalog>();
        services.AddSingleton<DestinationGate>();
        services.AddSingleton<DestinationStatusReader>();
        services.AddSingleton<DestinationControl>();
        services.AddSingleton<ActionLedger>();
        services.AddSingleton<RetrySchedule>();
        services.AddSingleton<IntegrationSender>();
        services.AddSingleton<AlertSender>();
        services.AddSingleton<DeliveryMetrics>();
        services.AddSingleton<ActionRecovery>();
        services.AddSingleton<EventReplay>();
        services.AddSingleton<FailureGroups>();
        services.AddScoped<DeliveryJob>();
        services.AddTransient<BulkActionJob>();
        AddClient<CrmOptions>(services, DestinationCatalog.Crm);
        AddClient<TicketOptions>(services, DestinationCatalog.Tickets);
        services.AddHttpClient(AlertSender.HttpClientName).ConfigureHttpClient((sp, client) =>
            client.Timeout = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<AlertOptions>>().Value.TimeoutSeconds));
        if (builder.Configuration.Role().RunsWorkers())
        {
            services.AddHostedService<DeliveryDispatcher>();
        }
        return builder;
    }

    public static IEndpointRouteBuilder MapDelivery(this IEndpointRouteBuilder app)
    {
        app.MapActions();
        app.MapFailureGroups();
        app.MapDestinations();
        return app;
    }

    private static void AddClient<TOptions>(IServiceCollection services, string name) where TOptions : DestinationOptions =>
        services.AddHttpClient(name).ConfigureHttpClient((sp, client) =>
            client.Timeout = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<TOptions>>().Value.TimeoutSeconds));
}
