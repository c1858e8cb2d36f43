using System.Globalization;

namespace WebhookReceiver.Operators;

/// <summary>
/// Answers what <see cref="OperatorAccess"/> decides and writes every operator request to the audit log: who, what,
/// from where. The path only: queries hold phone numbers and customer IDs (GET /events?json=…, /calls?customer_id=…).
/// </summary>
internal sealed class OperatorAccessFilter(OperatorAccess access, ILogger<OperatorAccessFilter> audit) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var (method, path, remote) = (http.Request.Method, http.Request.Path.Value, http.Connection.RemoteIpAddress);
        switch (access.Check(http, out var retryAfter))
        {
            case OperatorVerdict.Granted:
                if (Audited(http))
                {
                    audit.LogInformation("Operator {Operator} {Method} {Path} from {RemoteAddress}",
                        OperatorAccess.Name(http), method, path, remote);
                }
                return await next(context);
            case OperatorVerdict.CrossSite:
                // A browser keeps sending Basic credentials to this origin, so a page elsewhere could make an operator's
                // browser retry or replay work (CSRF). Browsers say where a request comes from; anything not from
                // this origin may read nothing and change nothing.
                audit.LogWarning("Cross-site operator request refused: {Method} {Path} from origin {Origin}", method, path,
                    http.Request.Headers.Origin.ToString());
                return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                    detail: "Operator endpoints do not accept cross-site requests.");
            case OperatorVerdict.TooManyFailedLogins:
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                audit.LogWarning("Operator request refused after too many failed logins: {Method} {Path} from {RemoteAddress}",
                    method, path, remote);
                http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too Many Requests",
                    detail: $"Too many failed operator logins from this address; try again in {seconds} s.");
            case OperatorVerdict.NotLocal:
                audit.LogWarning("Operator request refused: {Method} {Path} from {RemoteAddress}", method, path, remote);
                return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                    detail: "Without Dashboard:Username and Dashboard:Password, operator endpoints are served only to local requests " +
                            "(a loopback connection that carries no forwarding header).");
            default:
                audit.LogWarning("Operator request refused: {Method} {Path} from {RemoteAddress}", method, path, remote);
                http.Response.Headers.WWWAuthenticate = "Basic realm=\"WebhookReceiver operators\", charset=\"UTF-8\"";
                return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
        }
    }

    /// <summary>Everything but the reads of an endpoint that polls (the Hangfire dashboard refreshes itself every few seconds).</summary>
    private static bool Audited(HttpContext http) =>
        !(HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method))
        || http.GetEndpoint()?.Metadata.GetMetadata<OperatorAuditWritesOnly>() is null;
}

/// <summary>Marks an operator endpoint whose reads are not audited (see <see cref="OperatorAccessFilter"/>).</summary>
internal sealed class OperatorAuditWritesOnly
{
    public static readonly OperatorAuditWritesOnly Instance = new();
}
