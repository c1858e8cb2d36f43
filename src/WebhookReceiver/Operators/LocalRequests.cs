using System.Net;

namespace WebhookReceiver.Operators;

/// <summary>
/// Which requests count as "from this machine" when operator endpoints are served without credentials (see README,
/// Operator access): a loopback TCP peer that carries no forwarding header.
/// </summary>
internal static class LocalRequests
{
    /// <summary>
    /// Headers a proxy adds for the client it relays. With ASPNETCORE_FORWARDEDHEADERS_ENABLED=true, ASP.NET Core takes
    /// the peer address from X-Forwarded-For (which anyone can send) and keeps the original in X-Original-For; so any
    /// of these, before or after that rewrite, means the request is someone else's.
    /// </summary>
    private static readonly string[] ForwardingHeaders =
    [
        "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-IP",
        "X-Original-For", "X-Original-Host", "X-Original-Proto",
    ];

    public static bool IsLocal(HttpContext context)
    {
        var peer = context.Connection.RemoteIpAddress;
        // No peer address: a Unix socket, what a same-host proxy or sidecar typically connects through.
        if (peer is null || !IPAddress.IsLoopback(peer))
        {
            return false;
        }
        var headers = context.Request.Headers;
        foreach (var header in ForwardingHeaders)
        {
            if (headers.ContainsKey(header))
            {
                return false;
            }
        }
        return true;
    }
}
