using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using WebhookReceiver.Data;

namespace WebhookReceiver.Events;

internal sealed class ReceiptOptions
{
    public const string SectionName = "Receipts";

    /// <summary>Receipts waiting to be written; past this they are dropped (and counted), never waited for.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>Rows per INSERT.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 10_000)]
    public int BatchSize { get; set; } = 500;
}

/// <summary>
/// Writes receipts of refused and duplicate webhooks in batches, off the response path. The request only does a
/// TryWrite into a bounded queue: a flood of 401s can neither grow memory past the cap nor make anyone wait on
/// PostgreSQL; what does not fit is dropped and counted (metric, and a warning at most every few seconds).
/// Best effort by design: a receipt lost to a crash or an outage costs a line in a search, not an event.
/// </summary>
internal sealed partial class ReceiptWriter : BackgroundService
{
    private static readonly TimeSpan DropReportInterval = TimeSpan.FromSeconds(10);
    private readonly Channel<Receipt> _queue;
    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger<ReceiptWriter> _logger;
    private readonly int _batchSize;
    private readonly Counter<long> _dropped;
    private long _droppedSinceReport;

    public ReceiptWriter(NpgsqlDataSource dataSource, IOptions<ReceiptOptions> options, IMeterFactory meters, ILogger<ReceiptWriter> logger)
    {
        _dataSource = dataSource;
        _logger = logger;
        _batchSize = options.Value.BatchSize;
        _queue = Channel.CreateBounded<Receipt>(new BoundedChannelOptions(options.Value.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then answers false when full: we drop, nobody waits
            SingleReader = true,
        });
        _dropped = meters.Create("WebhookReceiver.Receipts").CreateCounter<long>(
            "webhookreceiver.receipts.dropped", description: "Webhook receipts dropped because the write queue was full");
    }

    /// <summary>Never blocks, never throws.</summary>
    public void Record(in Receipt receipt)
    {
        if (!_queue.Writer.TryWrite(receipt))
        {
            Interlocked.Increment(ref _droppedSinceReport);
            _dropped.Add(1);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Receipt>(_batchSize);
        var nextReport = DateTime.UtcNow;
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < _batchSize && _queue.Reader.TryRead(out var receipt))
                {
                    batch.Add(receipt);
                }
                await WriteAsync(batch, stoppingToken);
                batch.Clear();
                if (DateTime.UtcNow >= nextReport && Interlocked.Exchange(ref _droppedSinceReport, 0) is > 0 and var dropped)
                {
                    LogDropped(dropped);
                    nextReport = DateTime.UtcNow + DropReportInterval;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // Shutting down: what is already queued is cheap to keep.
        while (_queue.Reader.TryRead(out var receipt))
        {
            batch.Add(receipt);
        }
        if (batch.Count > 0)
        {
            using var shutdown = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await WriteAsync(batch, shutdown.Token);
        }
    }

    /// <summary>Receipts queued and not yet taken by the writer loop.</summary>
    public int Pending => _queue.Reader.Count;

    private async Task WriteAsync(List<Receipt> batch, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = _dataSource.CreateCommand(
                "INSERT INTO webhook_receipts (received_at, result, reason, call_id, event, webhook_id, body_bytes, remote_address, " +
                "quarantine_id, event_id) " +
                "SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], " +
                "$8::text[], $9::bigint[], $10::bigint[])");
            command.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = batch.Select(r => r.ReceivedAt).ToArray() });
            Text(command, batch.Select(r => r.Result));
            Text(command, batch.Select(r => r.Reason));
            Text(command, batch.Select(r => r.CallId));
            Text(command, batch.Select(r => r.Event));
            Text(command, batch.Select(r => r.WebhookId));
            command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = batch.Select(r => r.BodyBytes).ToArray() });
            Text(command, batch.Select(r => r.RemoteAddress));
            command.Parameters.Add(new NpgsqlParameter<long?[]>
            {
                TypedValue = batch.Select(r => r.QuarantineId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint,
            });
            command.Parameters.Add(new NpgsqlParameter<long?[]>
            {
                TypedValue = batch.Select(r => r.EventId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint,
            });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException ex) when (batch.Count > 1 && !ex.IsTransient)
        {
            // The database refused something in one row (the text is made storable first, so this is the unforeseen
            // case): keep the others by writing each alone, losing only the row that is refused again.
            LogBatchRefused(batch.Count, ex.SqlState);
            foreach (var receipt in batch)
            {
                await WriteAsync([receipt], cancellationToken);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            LogWriteFailed(batch.Count, ex.Message);
        }
    }

    // A receipt's call ID and event name come from a body that was refused, often for holding exactly such text (a
    // \u0000, or a capped ID that split a surrogate pair): stored with U+FFFD in its place, the receipt stays findable
    // and the rows batched with it are not refused along with it.
    private static void Text(NpgsqlCommand command, IEnumerable<string?> values) =>
        command.Parameters.Add(new NpgsqlParameter<string?[]>
        {
            TypedValue = values.Select(PostgresText.Storable).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text,
        });

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook receipts dropped: {Dropped} since the last report (write queue full)")]
    private partial void LogDropped(long dropped);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Webhook receipts: a batch of {Count} was refused ({SqlState}); writing them one by one")]
    private partial void LogBatchRefused(int count, string sqlState);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook receipts lost: {Count} could not be written ({Error})")]
    private partial void LogWriteFailed(int count, string error);
}
