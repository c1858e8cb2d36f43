using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace WebhookReceiver.Events;

/// <summary>One search hit: an accepted event (with its body) or a receipt of a request that stored nothing new.</summary>
internal sealed record EventHit(
    string Result, DateTime ReceivedAt, string? CallId, string? Event, string? WebhookId, string? Reason, long BodyBytes,
    long? EventId, long? ReceiptId, long? QuarantineId, string? RemoteAddress, DateTime? CreatedAt, string? Status,
    bool? OutOfOrder, JsonElement? Body, JsonElement? RequestHeaders = null);

internal sealed record EventHitPage(IReadOnlyList<EventHit> Items, string? NextCursor);

/// <summary>PostgreSQL refused a search parameter as data: the caller's 400, naming the parameter.</summary>
internal sealed class EventSearchRefusedException(string parameter, string message) : Exception(message)
{
    public string Parameter { get; } = parameter;

    public Dictionary<string, string[]> Errors => new() { [Parameter] = [Message] };
}

/// <summary>
/// Runs GET /events: accepted events come from webhook_events itself (nothing extra is written on the hot path),
/// the rest from webhook_receipts; each side is keyset-limited on its own index, then the two are merged.
/// </summary>
internal sealed class EventSearch(NpgsqlDataSource dataSource)
{
    private const string EventColumns =
        "'e' AS src, e.id, e.received_at, 'accepted' AS result, NULL::text AS reason, e.call_id, e.event, e.webhook_id, " +
        "octet_length(e.raw_body)::bigint AS body_bytes, e.id AS event_id, NULL::bigint AS quarantine_id, NULL::text AS remote_address, " +
        "e.created_at, e.status, e.out_of_order, e.body::text AS body, e.request_headers::text AS request_headers FROM webhook_events e";

    private const string ReceiptColumns =
        "'r' AS src, r.id, r.received_at, r.result, r.reason, r.call_id, r.event, r.webhook_id, r.body_bytes, r.event_id, " +
        "r.quarantine_id, r.remote_address, NULL::timestamptz, NULL::text, NULL::boolean, NULL::text, NULL::text FROM webhook_receipts r";

    public async Task<EventHitPage> SearchAsync(EventSearchQuery q, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand();
        Prepare(command, q);
        var hits = new List<(char Source, long Id, EventHit Hit)>(q.Limit + 1);
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                hits.Add(Read(reader));
            }
        }
        catch (PostgresException ex) when (JsonRefused(q, ex))
        {
            throw new EventSearchRefusedException("json", JsonRefusal(ex));
        }
        var next = hits.Count > q.Limit
            ? new EventCursor(hits[q.Limit - 1].Hit.ReceivedAt, hits[q.Limit - 1].Source, hits[q.Limit - 1].Id).Encode()
            : null;
        return new EventHitPage(hits.Take(q.Limit).Select(h => h.Hit).ToList(), next);
    }

    /// <summary>Fills in the search statement and its parameters (public to the tests, which EXPLAIN it).</summary>
    internal static void Prepare(NpgsqlCommand command, EventSearchQuery q)
    {
        var branches = new List<string>();
        if (q.SearchesEvents)
        {
            branches.Add(Branch(EventColumns, "e", 'e', q, command));
        }
        if (q.SearchesReceipts)
        {
            branches.Add(Branch(ReceiptColumns, "r", 'r', q, command));
        }
        command.Parameters.Add(new NpgsqlParameter<int>("take", q.Limit + 1));
        command.CommandText = "SELECT * FROM (" + string.Join(" UNION ALL ", branches.Select(b => "(" + b + ")")) +
                              ") hits ORDER BY received_at DESC, src DESC, id DESC LIMIT @take";
    }

    private static (char Source, long Id, EventHit Hit) Read(NpgsqlDataReader reader)
    {
        var source = reader.GetString(0)[0];
        var id = reader.GetInt64(1);
        return (source, id, new EventHit(
                    Result: reader.GetString(3), ReceivedAt: reader.GetDateTime(2), CallId: Text(reader, 5), Event: Text(reader, 6),
                    WebhookId: Text(reader, 7), Reason: Text(reader, 4), BodyBytes: reader.GetInt64(8),
                    EventId: reader.IsDBNull(9) ? null : reader.GetInt64(9), ReceiptId: source == 'r' ? id : null,
                    QuarantineId: reader.IsDBNull(10) ? null : reader.GetInt64(10), RemoteAddress: Text(reader, 11),
                    CreatedAt: reader.IsDBNull(12) ? null : reader.GetDateTime(12), Status: Text(reader, 13),
                    OutOfOrder: reader.IsDBNull(14) ? null : reader.GetBoolean(14),
                    Body: reader.IsDBNull(15) ? null : JsonElement.Parse(reader.GetString(15)),
                    RequestHeaders: reader.IsDBNull(16) ? null : JsonElement.Parse(reader.GetString(16))));
    }

    /// <summary>How many requests came to each result, under the same filters (no cursor).</summary>
    public async Task<IReadOnlyDictionary<string, long>> CountAsync(EventSearchQuery q, CancellationToken cancellationToken)
    {
        var counts = ReceiptResult.All.ToDictionary(r => r, _ => 0L);
        var unpaged = q with { After = null };
        await using var command = dataSource.CreateCommand();
        var parts = new List<string>();
        if (q.SearchesEvents)
        {
            parts.Add("SELECT 'accepted' AS result, count(*) AS n FROM webhook_events e WHERE " + Conditions("e", 'e', unpaged, command));
        }
        if (q.SearchesReceipts)
        {
            parts.Add("SELECT r.result, count(*) FROM webhook_receipts r WHERE " + Conditions("r", 'r', unpaged, command)
                + " GROUP BY r.result");
        }
        command.CommandText = string.Join(" UNION ALL ", parts);
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                counts[reader.GetString(0)] = reader.GetInt64(1);
            }
        }
        catch (PostgresException ex) when (JsonRefused(q, ex))
        {
            throw new EventSearchRefusedException("json", JsonRefusal(ex));
        }
        return counts;
    }

    // Class 22, data exception. The json filter is the only parameter PostgreSQL parses as data (text parameters are
    // checked before, times are typed), so such an error is the filter's: a number past numeric's range, say.
    private static bool JsonRefused(EventSearchQuery q, PostgresException ex) =>
        q.Json is not null && ex.SqlState.StartsWith("22", StringComparison.Ordinal);

    private static string JsonRefusal(PostgresException ex) => $"holds a value PostgreSQL cannot read as jsonb ({ex.MessageText})";

    private static string Branch(string columns, string alias, char source, EventSearchQuery q, NpgsqlCommand command) =>
        $"SELECT {columns} WHERE {Conditions(alias, source, q, command)} ORDER BY {alias}.received_at DESC, {alias}.id DESC LIMIT @take";

    /// <summary>
    /// The filters for one table. Parameters are shared by name between the two branches (added once). The cursor
    /// becomes a plain range on (received_at, id) per table, because the source of each branch is a constant here.
    /// </summary>
    private static string Conditions(string a, char source, EventSearchQuery q, NpgsqlCommand command)
    {
        var where = new StringBuilder("true");
        if (q.CallId is not null)
        {
            where.Append($" AND {a}.call_id = @call_id");
            Add(command, "call_id", q.CallId);
        }
        if (q.Event is not null)
        {
            where.Append($" AND {a}.event = @event");
            Add(command, "event", q.Event);
        }
        if (q.Since is { } since)
        {
            where.Append($" AND {a}.received_at >= @since");
            Add(command, "since", since);
        }
        if (q.Until is { } until)
        {
            where.Append($" AND {a}.received_at < @until");
            Add(command, "until", until);
        }
        if (q.Result is not null && source == 'r')
        {
            where.Append(" AND r.result = @result");
            Add(command, "result", q.Result);
        }
        if (q.Json is not null && source == 'e')
        {
            // The indexable form: jsonb containment against the GIN (jsonb_path_ops) index on body.
            where.Append(" AND e.body @> @json::jsonb");
            Add(command, "json", q.Json);
        }
        if (q.After is { } after)
        {
            Add(command, "after_at", after.At);
            Add(command, "after_id", after.Id);
            // Order: received_at desc, then source 'r' before 'e', then id desc.
            where.Append(source.CompareTo(after.Source) switch
            {
                0 => $" AND ({a}.received_at, {a}.id) < (@after_at, @after_id)",
                < 0 => $" AND {a}.received_at <= @after_at",
                _ => $" AND {a}.received_at < @after_at",
            });
        }
        return where.ToString();
    }

    private static void Add<T>(NpgsqlCommand command, string name, T value)
    {
        if (!command.Parameters.Contains(name))
        {
            command.Parameters.Add(value is DateTime
                ? new NpgsqlParameter<T>(name, value) { NpgsqlDbType = NpgsqlDbType.TimestampTz }
                : new NpgsqlParameter<T>(name, value));
        }
    }

    private static string? Text(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
