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

    [Fact]
    public async Task A_receipt_with_text_PostgreSQL_cannot_store_is_kept_repaired_and_does_not_sink_its_batch()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        await using var dataSource = NpgsqlDataSource.Create(app.ConnectionString);
        var writer = new ReceiptWriter(dataSource, Options.Create(new ReceiptOptions { QueueCapacity = 100, BatchSize = 100 }),
            services.GetRequiredService<IMeterFactory>(), NullLogger<ReceiptWriter>.Instance);
        var marker = "mixed_" + Guid.NewGuid().ToString("N");
        // Queued before the writer runs, so all of them go to PostgreSQL in one INSERT.
        for (var i = 0; i < 5; i++)
        {
            writer.Record(Invalid($"call_ok_{i}", "call.completed", marker));
        }
        writer.Record(Invalid("call_\0nul", "call.\0", marker));
        // What capping a call ID of emoji can leave: the high half of a surrogate pair at the end.
        writer.Record(Invalid("call_\ud83d", null, marker));

        await writer.StartAsync(CancellationToken.None);
        await Eventually.WaitAsync(async () => await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM webhook_receipts WHERE webhook_id = $1", marker) == 7,
            TimeSpan.FromSeconds(10), "all seven receipts written");
        await writer.StopAsync(CancellationToken.None);
        writer.Dispose();

        Assert.Equal(1, await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM webhook_receipts WHERE webhook_id = $1 AND call_id = 'call_\uFFFDnul' AND event = 'call.\uFFFD'",
            marker));
        Assert.Equal(1, await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM webhook_receipts WHERE webhook_id = $1 AND call_id = 'call_\uFFFD'", marker));
    }

    [Fact]
    public async Task Refused_webhooks_whose_call_id_or_event_PostgreSQL_cannot_store_are_findable_with_the_others()
    {
        var nulCallId = "call_" + Guid.NewGuid().ToString("N")[..8] + "\0x";
        var emojiCallId = "call_" + Guid.NewGuid().ToString("N")[..8] + string.Concat(Enumerable.Repeat("\ud83d\ude00", 100));
        var nulEventCallId = MiniVoiceEvents.NewCallId();
        var plainCallId = MiniVoiceEvents.NewCallId();
        var bodies = new[]
        {
            // Each is refused by validation, and its receipt carries the call ID and event name it was sent with.
            MiniVoiceEvents.Event(nulCallId, "call.completed", "completed", DateTimeOffset.UtcNow, direction: "sideways"),
            // Too long: its receipt keeps the first 128 UTF-16 units, which ends in half a surrogate pair.
            MiniVoiceEvents.Event(emojiCallId, "call.completed", "completed", DateTimeOffset.UtcNow),
            MiniVoiceEvents.Event(nulEventCallId, "call.\0", "completed", DateTimeOffset.UtcNow),
            MiniVoiceEvents.Event(plainCallId, "call.completed", "completed", DateTimeOffset.UtcNow, direction: "sideways"),
        };
        var ids = bodies.Select(_ => "msg_" + Guid.NewGuid().ToString("N")).ToArray();

        var answers = await Task.WhenAll(bodies.Select(async (body, i) =>
        {
            using var response = await app.PostSignedAsync(body, ids[i]);
            return response.StatusCode;
        }));

        Assert.All(answers, status => Assert.Equal(System.Net.HttpStatusCode.BadRequest, status));
        await Eventually.WaitAsync(async () => await Db.CountAsync(app.ConnectionString,
            "SELECT count(*) FROM webhook_receipts WHERE webhook_id = ANY($1)", (object)ids) == 4,
            TimeSpan.FromSeconds(10), "four receipts written");
        Assert.Equal(ids[0], await FoundAsync("call_id=" + Uri.EscapeDataString(nulCallId.Replace('\0', '\uFFFD'))));
        Assert.Equal(ids[1], await FoundAsync("call_id=" + Uri.EscapeDataString(emojiCallId[..127] + "\uFFFD")));
        Assert.Equal(ids[2], await FoundAsync($"call_id={nulEventCallId}&event=" + Uri.EscapeDataString("call.\uFFFD")));
        Assert.Equal(ids[3], await FoundAsync($"call_id={plainCallId}"));

        async Task<string?> FoundAsync(string query) =>
            Assert.Single(Items(await app.GetJsonAsync("/events?result=invalid&" + query))).GetProperty("webhook_id").GetString();
    }

    private static Receipt Invalid(string callId, string? eventName, string webhookId) =>
        new(DateTime.UtcNow, ReceiptResult.Invalid, "validation_failed", callId, eventName, webhookId, 10, "203.0.113.9");

    private static List<System.Text.Json.JsonElement> Items(System.Text.Json.JsonElement page) =>
        page.GetProperty("items").EnumerateArray().ToList();
}
