using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// Group commit for the hot path. Requests queue their event and wait; a few writer loops each take every
/// event waiting (up to Webhooks:IngestBatchSize) and store them in one batch, so under load one commit (one
/// WAL flush) answers many requests, and with a single request in flight nothing waits for company.
/// Every request is still answered only after the commit that holds its event.
/// </summary>
internal sealed class IngestWriter(IngestStore store, WorkSignal work, IOptions<WebhookOptions> options, ILogger<IngestWriter> logger) : IHostedService
{
    private sealed record Pending(IngestCommand Command)
    {
        public TaskCompletionSource<IngestResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(options.Value.IngestQueueLimit)
    {
        FullMode = BoundedChannelFullMode.Wait,
    });

    private Task[] _writers = [];

    /// <summary>Completes after the commit; throws what the database threw (the caller answers 400 or 503).</summary>
    public Task<IngestResult> IngestAsync(IngestCommand command)
    {
        var pending = new Pending(command);
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new IngestOverloadedException();
        }
        return pending.Done.Task;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _writers = Enumerable.Range(0, options.Value.IngestWriters).Select(_ => Task.Run(WriteLoopAsync, CancellationToken.None)).ToArray();
        return Task.CompletedTask;
    }

    /// <summary>Runs after Kestrel has drained its requests: stores what is queued, then stops.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_writers).WaitAsync(cancellationToken);
    }

    private async Task WriteLoopAsync()
    {
        var max = options.Value.IngestBatchSize;
        var batch = new List<Pending>(max);
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < max && _queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }
            if (batch.Count > 0)
            {
                await WriteAsync(batch);
                batch.Clear();
            }
        }
    }

    private async Task WriteAsync(List<Pending> arrived)
    {
        // One lock order for every batch (events lock their call's row): concurrent batches cannot deadlock.
        // The sort is stable (List.Sort is not), so one call's events keep their arrival order and equal
        // created_at times resolve exactly as if the events had come one by one.
        var batch = arrived.OrderBy(p => p.Command.CallId, StringComparer.Ordinal).ToList();
        try
        {
            var results = await store.IngestAsync(batch.ConvertAll(p => p.Command), CancellationToken.None);
            // The delivery side learns of new work (and of the ingest rate it gives way to) here, once per commit.
            work.Stored(batch.Count, results.Any(r => r.ActionsCreated > 0));
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Done.TrySetResult(results[i]);
            }
        }
        catch (PostgresException ex) when (batch.Count > 1 && !ex.IsTransient)
        {
            // One event the database refuses (bad text, a numeric out of range) must not sink the others:
            // store each alone, so each request gets its own answer.
            logger.LogDebug("Batch of {Count} refused ({SqlState}); storing its events one by one", batch.Count, ex.SqlState);
            foreach (var pending in batch)
            {
                await WriteAsync([pending]);
            }
        }
        catch (Exception ex)
        {
            foreach (var pending in batch)
            {
                pending.Done.TrySetException(ex);
            }
        }
    }
}

/// <summary>More events are waiting for the database than Webhooks:IngestQueueLimit: answer 503 and let the sender retry.</summary>
internal sealed class IngestOverloadedException() : Exception("too many events are waiting to be stored");
