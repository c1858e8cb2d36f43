using Microsoft.AspNetCore.Http.HttpResults;
using WebhookReceiver.Calls;
using WebhookReceiver.Operators;

namespace WebhookReceiver.Delivery;

/// <summary>GET /actions/failures. The /actions group is shared: retry and cancel endpoints live beside it, mapped elsewhere.</summary>
internal static class FailuresApi
{
    public static RouteGroupBuilder MapFailureGroups(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/actions").RequireOperator();
        group.MapGet("/failures", Read);
        return group;
    }

    private static async Task<Results<Ok<FailureReport>, ValidationProblem>> Read(
        HttpRequest request, FailureGroups failures, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var since = CallListQuery.Time(request.Query, "since", errors);
        var until = CallListQuery.Time(request.Query, "until", errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid query parameters.");
        }
        return TypedResults.Ok(await failures.ReadAsync(since, until, cancellationToken));
    }
}
