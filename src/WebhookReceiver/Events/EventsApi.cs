using Microsoft.AspNetCore.Http.HttpResults;
using WebhookReceiver.Operators;

namespace WebhookReceiver.Events;

/// <summary>GET /events (search every webhook request, accepted or not) and the receipts that make the refused ones findable.</summary>
internal static class EventsApi
{
    public static IHostApplicationBuilder AddEventSearch(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ReceiptOptions>().BindConfiguration(ReceiptOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ReceiptWriter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReceiptWriter>());
        builder.Services.AddSingleton<EventSearch>();
        return builder;
    }

    public static RouteGroupBuilder MapEventSearch(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/events").RequireOperator();
        group.MapGet("/", Search);
        group.MapGet("/counts", Count);
        return group;
    }

    private static async Task<Results<Ok<EventHitPage>, ValidationProblem>> Search(
        HttpRequest request, EventSearch search, CancellationToken cancellationToken)
    {
        if (!EventSearchQuery.TryParse(request.Query, out var q, out var errors))
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid query parameters.");
        }
        return TypedResults.Ok(await search.SearchAsync(q, cancellationToken));
    }

    private static async Task<Results<Ok<IReadOnlyDictionary<string, long>>, ValidationProblem>> Count(
        HttpRequest request, EventSearch search, CancellationToken cancellationToken)
    {
        if (!EventSearchQuery.TryParse(request.Query, out var q, out var errors))
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid query parameters.");
        }
        return TypedResults.Ok(await search.CountAsync(q, cancellationToken));
    }
}
