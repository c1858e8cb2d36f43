using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;

namespace WebhookReceiver.Webhooks;

/// <summary>
/// Group commit for the hot path. Requests queue their event and wait; a few writer loops each take every
/// event waiting (up to Webhooks:IngestBatchSize) and store them in one batch, so under load one commit (one
/// WAL flush) answers many requests, and with a single request in flight nothing waits for company.
/// Every request is still answered only after the commit that holds its event.
/// A request is answered 503 within Webhooks:RetryAfterSeconds when PostgreSQL cannot be reached (even when its
/// packets are dropped, so each connection attempt would wait out its timeout): see <see cref="Deadlines"/>.
/// </summary>
internal sealed class IngestWriter(
    IngestStore store, WorkSignal work, IOptions<WebhookOptions> options, Observability.TraceContext traces, ILogger<IngestWriter> logger)
    : IHostedService
{
    private sealed record Pending(IngestCommand Command)
    {
        public TaskCompletionSource<IngestResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Stopwatch timestamp past which the request is answered 503 instead of tried.</summary>
        public long Deadline { get; init; }
    }

    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(options.Value.IngestQueueLimit)
    {
        FullMode = BoundedChannelFullMode.Wait,
    });

    // Writers and the sweeper take from the queue under this lock, so the sweeper's look at the head and its
    // taking of it are one step. Held once per batch, not per event.
    private readonly Lock _taking = new();
    private readonly Deadlines _deadlines = new(TimeSpan.FromSeconds(options.Value.RetryAfterSeconds));
    private Task[] _writers = [];
    private Task _sweeper = Task.CompletedTask;

    /// <summary>Completes after the commit; throws what the database threw (the caller answers 400 or 503).</summary>
    public Task<IngestResult> IngestAsync(IngestCommand command)
    {
        var pending = new Pending(command) { Deadline = _deadlines.ForArrival() };
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new IngestOverloadedException();
        }
        return pending.Done.Task;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _writers = Enumerable.Range(0, options.Value.IngestWriters).Select(_ => Task.Run(WriteLoopAsync, CancellationToken.None)).ToArray();
        _sweeper = Task.Run(SweepLoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Runs after Kestrel has drained its requests: stores what is queued, then stops.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll([.. _writers, _sweeper]).WaitAsync(cancellationToken);
    }

    private async Task WriteLoopAsync()
    {
        var max = options.Value.IngestBatchSize;
        var batch = new List<Pending>(max);
        while (await _queue.Reader.WaitToReadAsync())
        {
            Take(batch, max);
            if (batch.Count > 0)
            {
                await WriteAsync(batch);
                batch.Clear();
            }
        }
    }

    /// <summary>
    /// The batch stays in arrival order: the store keeps one call's events in that order (equal created_at times
    /// resolve as if the events had come one by one) and takes its locks in one order of its own.
    /// </summary>
    private async Task WriteAsync(List<Pending> batch)
    {
        using var span = traces.Enabled ? traces.StartIngestBatch(batch, static p => p.Command.TraceParent) : null;
        try
        {
            using var openBudget = _deadlines.OpenBudget(batch.Min(p => p.Deadline));
            var results = await store.IngestAsync(batch.ConvertAll(p => p.Command), openBudget.Token);
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
        catch (IngestConnectionException ex)
        {
            // No connection (down, unreachable, or slower than the waiting requests can afford): the requests
            // queued behind this batch would wait for the same answer, so they get it now.
            foreach (var pending in batch)
            {
                pending.Done.TrySetException(ex);
            }
            FailWaiting(ex);
        }
        catch (Exception ex)
        {
            foreach (var pending in batch)
            {
                pending.Done.TrySetException(ex);
            }
        }
    }

    /// <summary>Fills the batch from the queue; a request that waited past its deadline is answered 503 untried.</summary>
    private void Take(List<Pending> batch, int max)
    {
        var now = Stopwatch.GetTimestamp();
        lock (_taking)
        {
            while (batch.Count < max && _queue.Reader.TryRead(out var pending))
            {
                if (pending.Deadline > now)
                {
                    batch.Add(pending);
                }
                else
                {
                    pending.Done.TrySetException(_deadlines.Expired());
                }
            }
        }
    }

    /// <summary>Answers requests that waited past their deadline while every writer was busy (or stuck); ends with the queue.</summary>
    private async Task SweepLoopAsync()
    {
        using var timer = new PeriodicTimer(Deadlines.SweepInterval);
        while (!_queue.Reader.Completion.IsCompleted && await timer.WaitForNextTickAsync())
        {
            var now = Stopwatch.GetTimestamp();
            lock (_taking)
            {
                // The queue is in arrival order: the first request still in time ends the sweep.
                while (_queue.Reader.TryPeek(out var head) && head.Deadline <= now && _queue.Reader.TryRead(out _))
                {
                    head.Done.TrySetException(_deadlines.Expired());
                }
            }
        }
    }

    private void FailWaiting(Exception cause)
    {
        lock (_taking)
        {
            while (_queue.Reader.TryRead(out var pending))
            {
                pending.Done.TrySetException(cause);
            }
        }
    }
}

/// <summary>
/// How long a request may wait for the database. Its deadline is Webhooks:RetryAfterSeconds after arrival, less a
/// margin: a request still queued then is answered 503 without being tried (the sweeper looks every
/// <see cref="SweepInterval"/>), and a batch may wait for a connection only until its oldest request's deadline plus
/// half the margin. So the 503 comes within RetryAfterSeconds even when every connection attempt would hang for
/// the connect timeout. A request already sent in a batch waits for its commit (answering 503 for an event that
/// then commits would only cost a duplicate delivery, but the commit is never cut short).
/// </summary>
internal sealed class Deadlines
{
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(100);

    // Room for the sweep's lag, the answer's own path, and a fresh connection's start-up (a few ms locally).
    private readonly TimeSpan _margin;
    private readonly TimeSpan _wait;
    private readonly long _waitTimestampTicks;

    public Deadlines(TimeSpan retryAfter)
    {
        _margin = TimeSpan.FromTicks(Math.Min(TimeSpan.FromMilliseconds(500).Ticks, retryAfter.Ticks / 2));
        _wait = retryAfter - _margin;
        _waitTimestampTicks = (long)(_wait.TotalSeconds * Stopwatch.Frequency);
    }

    public long ForArrival() => Stopwatch.GetTimestamp() + _waitTimestampTicks;

    public IngestUnavailableException Expired() =>
        new IngestWaitedTooLongException($"waited {_wait.TotalSeconds:0.#} s for the database without being stored");

    /// <summary>Cancels the wait for a connection at the oldest request's deadline (plus half the margin).</summary>
    public CancellationTokenSource OpenBudget(long oldestDeadline)
    {
        var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), oldestDeadline);
        return new CancellationTokenSource((left > TimeSpan.Zero ? left : TimeSpan.Zero) + _margin / 2);
    }
}

/// <summary>The event was not stored because the database cannot take it now: answer 503 and let the sender retry.</summary>
internal abstract class IngestUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>More events are waiting for the database than Webhooks:IngestQueueLimit.</summary>
internal sealed class IngestOverloadedException() : IngestUnavailableException("too many events are waiting to be stored");

/// <summary>The request waited past its deadline (see <see cref="Deadlines"/>) and was not tried.</summary>
internal sealed class IngestWaitedTooLongException(string message) : IngestUnavailableException(message);

/// <summary>No connection to PostgreSQL could be opened for the batch (refused, unreachable, or out of time).</summary>
internal sealed class IngestConnectionException(Exception inner)
    : IngestUnavailableException("no connection to PostgreSQL: " + inner.Message, inner);
