using Hangfire.Dashboard;
using WebhookReceiver.Operators;

namespace WebhookReceiver.Jobs;

/// <summary>
/// The Hangfire dashboard sits behind the operator check like every other operator endpoint: its endpoint carries
/// <see cref="OperatorAccessFilter"/> (MapJobsDashboard), which answers refusals (401, 403, 429) itself. Hangfire's own
/// authorization only lets through what that check granted, so the dashboard stays shut should the filter go missing
/// (Hangfire's default serves every local request).
/// </summary>
internal sealed class DashboardAuthorization : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context) => OperatorAccess.Granted(context.GetHttpContext());
}
