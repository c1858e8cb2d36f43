using System.Threading.Channels;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// What the webhook side tells the delivery side: new work committed (wake the dispatcher now rather than at its
/// next poll; a lost signal is harmless) and how many events this process has stored (the dispatcher gives way to
/// a burst by their rate). Delivery reads it; the webhook side never depends on Delivery.
/// </summary>
internal sealed class WorkSignal
{
    private readonly Channel<bool> _channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
    });

    private long _stored;

    /// <summary>Events committed by this process since it started.</summary>
    public long StoredEvents => Interlocked.Read(ref _stored);

    public void Stored(int events, bool newWork)
    {
        Interlocked.Add(ref _stored, events);
        if (newWork)
        {
            Notify();
        }
    }

    public void Notify() => _channel.Writer.TryWrite(true);

    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        try
        {
            await _channel.Reader.ReadAsync(timer.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Poll interval elapsed.
        }
    }
}
