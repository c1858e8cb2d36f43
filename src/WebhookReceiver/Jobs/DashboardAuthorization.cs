using Hangfire.Dashboard;
using WebhookReceiver.Operators;

namespace WebhookReceiver.Jobs;

/// <summary>The Hangfire dashboard sits behind the operator credentials like every other operator endpoint.</summary>
internal sealed class DashboardAuthorization(OperatorAccess access) : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context)
    {
        var http = context.GetHttpContext();
        if (access.IsAllowed(http))
        {
            return true;
        }
        // Hangfire answers 401 for an anonymous user; the challenge lets a browser ask for credentials.
        http.Response.Headers.WWWAuthenticate = "Basic realm=\"WebhookReceiver operators\", charset=\"UTF-8\"";
        return false;
    }
}
