using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using WebhookReceiver.Data;

namespace WebhookReceiver.Calls;

/// <summary>
/// A call's timeline: its newest <see cref="Limit"/> events, each with the <c>data</c> object MiniVoice sent, oldest
/// first. Bounded so a call with 100 000 events costs one index range of 500 rows (webhook_events (call_id,
/// created_at), read backwards) and a count, never the whole history; older events are one search away
/// (README "Call records").
/// </summary>
internal static class CallTimeline
{
    public const int Limit = 500;

    /// <summary>Where the events the timeline leaves out are listed (GET /events keeps every accepted event).</summary>
    public static string OlderEventsPath(string prefix, string callId) =>
        $"{prefix}/events?call_id={Uri.EscapeDataString(callId)}&result=accepted";

    /// <summary>The newest events, newest first; only the body's data leaves the database (internal: the tests EXPLAIN it).</summary>
    internal const string NewestSql = """
        SELECT id, event, status, created_at, received_at, out_of_order, webhook_id, (body -> 'data')::text AS data
        FROM webhook_events
        WHERE call_id = @call_id
        ORDER BY created_at DESC, id DESC
        LIMIT @take
        """;

    public static async Task<(IReadOnlyList<EventView> Events, long Total)> LoadAsync(
        AppDbContext db, string callId, CancellationToken cancellationToken)
    {
        var newest = await db.Database.SqlQueryRaw<Row>(NewestSql, Parameters(callId)).ToListAsync(cancellationToken);
        // The count is a second query only when the limit may have cut the timeline.
        var total = newest.Count < Limit ? newest.Count : await db.Events.LongCountAsync(e => e.CallId == callId, cancellationToken);
        var events = newest.Select(r => new EventView(r.Id, r.Event, r.Status, r.CreatedAt, r.ReceivedAt, r.OutOfOrder, r.WebhookId,
            r.Data is null ? null : JsonElement.Parse(r.Data))).Reverse().ToList();
        return (events, total);
    }

    internal static NpgsqlParameter[] Parameters(string callId) =>
        [new NpgsqlParameter<string>("call_id", callId), new NpgsqlParameter<int>("take", Limit)];

    private sealed record Row(long Id, string Event, string? Status, DateTime CreatedAt, DateTime ReceivedAt, bool OutOfOrder,
        string? WebhookId, string? Data);
}
