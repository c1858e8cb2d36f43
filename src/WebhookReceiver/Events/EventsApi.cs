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
            return Invalid(errors);
        }
        try
        {
            return TypedResults.Ok(await search.SearchAsync(q, cancellationToken));
        }
        catch (EventSearchRefusedException ex)
        {
            return Invalid(ex.Errors);
        }
    }

    private static async Task<Results<Ok<EventCounts>, ValidationProblem>> Count(
        HttpRequest request, EventSearch search, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!EventSearchQuery.TryParse(request.Query, out var q, out var errors))
        {
            return Invalid(errors);
        }
        var window = q.CountWindow(clock.GetUtcNow().UtcDateTime);
        try
        {
            return TypedResults.Ok(EventCounts.Of(await search.CountAsync(window, cancellationToken), window, q.Since is null));
        }
        catch (EventSearchRefusedException ex)
        {
            return Invalid(ex.Errors);
        }
    }

    private static ValidationProblem Invalid(Dictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "Invalid query parameters.");
}
