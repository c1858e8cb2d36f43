using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using WebhookReceiver.Events;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Events;

[Collection(ReceiverCollection.Name)]
public sealed class ReceiptWriterTests(ReceiverFactory app)
{
    [Fact]
    public async Task A_full_queue_drops_and_counts_receipts_instead_of_waiting_then_writes_the_rest_in_batches()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        await using var dataSource = NpgsqlDataSource.Create(app.ConnectionString);
        var writer = new ReceiptWriter(dataSource, Options.Create(new ReceiptOptions { QueueCapacity = 10, BatchSize = 4 }),
            services.GetRequiredService<IMeterFactory>(), NullLogger<ReceiptWriter>.Instance);
        long dropped = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "webhookreceiver.receipts.dropped")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref dropped, value));
        listener.Start();
        var marker = "flood_" + Guid.NewGuid().ToString("N");

        // The writer is not running yet: nothing drains the queue, so this is a flood against a stuck database.
        for (var i = 0; i < 1000; i++)
        {
            writer.Record(new Receipt(DateTime.UtcNow, ReceiptResult.Unauthorized, "signature_mismatch", null, null, marker, 10, "203.0.113.9"));
        }
        Assert.Equal(10, writer.Pending);
        Assert.Equal(990, Interlocked.Read(ref dropped));

        await writer.StartAsync(CancellationToken.None);
        await Eventually.WaitAsync(async () => await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM webhook_receipts WHERE webhook_id = $1", marker) == 10, TimeSpan.FromSeconds(10), "the ten queued receipts written");
        await writer.StopAsync(CancellationToken.None);
        writer.Dispose();
    }
}
