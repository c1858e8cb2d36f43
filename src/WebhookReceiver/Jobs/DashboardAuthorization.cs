using Hangfire.Dashboard;
using WebhookReceiver.Operators;

namespace WebhookReceiver.Jobs;

/// <summary>The Hangfire dashboard sits behind the operator credentials like every other operator endpoint.</summary>
internal sealed class DashboardAuthorization(OperatorAccess access, ILogger<DashboardAuthorization> audit) : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context)
    {
        var http = context.GetHttpContext();
        if (OperatorAccessFilter.CrossSite(http.Request))
        {
            audit.LogWarning("Cross-site dashboard request refused: {Method} {Path}", http.Request.Method, http.Request.Path.Value);
            return false;
        }
        if (access.IsAllowed(http))
        {
            if (HttpMethods.IsPost(http.Request.Method))
            {
                // Retries, deletes and requeues from the dashboard are operator actions: audit them like the API's.
                audit.LogInformation("Operator {Operator} {Method} {Path} (dashboard) from {RemoteAddress}", OperatorAccess.Name(http),
                    http.Request.Method, http.Request.Path.Value, http.Connection.RemoteIpAddress);
            }
            return true;
        }
        // Hangfire answers 401 for an anonymous user; the challenge lets a browser ask for credentials.
        http.Response.Headers.WWWAuthenticate = "Basic realm=\"WebhookReceiver operators\", charset=\"UTF-8\"";
        return false;
    }
}
