using System.Net;
using System.Net.Sockets;

namespace WebhookReceiver.IntegrationTests.Infrastructure;

internal static class Ports
{
    /// <summary>A loopback port nothing listens on right now (bound, then released).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
