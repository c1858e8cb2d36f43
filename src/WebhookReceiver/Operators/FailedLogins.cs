using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Operators;

/// <summary>
/// Failed operator logins per client address, in fixed windows. Once an address has used up its failures, its requests
/// are refused before the password is looked at, so a guesser gets FailedLoginLimit tries per window whatever its
/// speed. Successful logins take nothing. Idle addresses are dropped by the partitioned limiter after a few seconds.
/// </summary>
internal sealed class FailedLogins : IDisposable
{
    private const string NoPeerAddress = "unix";
    private readonly PartitionedRateLimiter<HttpContext> _limiter;

    public FailedLogins(IOptions<OperatorOptions> options)
    {
        var limit = options.Value.FailedLoginLimit;
        var window = TimeSpan.FromSeconds(options.Value.FailedLoginWindowSeconds);
        // AutoReplenishment off: the partitioned limiter's own timer replenishes every partition (no timer per address).
        _limiter = PartitionedRateLimiter.Create<HttpContext, string>(context => RateLimitPartition.GetFixedWindowLimiter(
            Address(context.Connection.RemoteIpAddress),
            _ => new FixedWindowRateLimiterOptions { PermitLimit = limit, Window = window, QueueLimit = 0, AutoReplenishment = false }));
    }

    /// <summary>True when this address has no failed login left in the current window; how long until it has.</summary>
    public bool Exhausted(HttpContext context, out TimeSpan retryAfter)
    {
        // Zero permits: asks whether any are left without taking one.
        using var probe = _limiter.AttemptAcquire(context, 0);
        retryAfter = probe.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.Zero;
        return !probe.IsAcquired;
    }

    public void Record(HttpContext context) => _limiter.AttemptAcquire(context, 1).Dispose();

    public void Dispose() => _limiter.Dispose();

    /// <summary>The client's address; for IPv6 its /64, which one client usually holds whole.</summary>
    internal static string Address(IPAddress? peer)
    {
        if (peer is null)
        {
            return NoPeerAddress;
        }
        if (peer.IsIPv4MappedToIPv6)
        {
            peer = peer.MapToIPv4();
        }
        if (peer.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return peer.ToString();
        }
        var bytes = peer.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}
