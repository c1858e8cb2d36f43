using System.Net.Sockets;

namespace WebhookReceiver.IntegrationTests.Infrastructure;

/// <summary>Clients that reach the app from somewhere else than the usual loopback TCP connection.</summary>
internal static class PeerClients
{
    /// <summary>HTTP over a Unix socket, as a same-host reverse proxy or sidecar connects: the server sees no peer address.</summary>
    public static HttpClient OverUnixSocket(string socketPath) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    {
        BaseAddress = new Uri("http://localhost"),
    };

    /// <summary>TCP from another loopback address (127.0.0.0/8 is all loopback on Linux): a second client address.</summary>
    public static HttpClient FromLoopbackAddress(System.Net.IPAddress local, Uri baseAddress) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new System.Net.IPEndPoint(local, 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    {
        BaseAddress = baseAddress,
    };
}
