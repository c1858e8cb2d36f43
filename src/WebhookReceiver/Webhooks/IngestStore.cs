using Npgsql;
using NpgsqlTypes;

namespace WebhookReceiver.Webhooks;

internal sealed record IngestCommand(
    string Identity, string? WebhookId, string CallId, string Event, string? Status, bool IsFinal,
    DateTimeOffset CreatedAt, string? CustomerId, string? ApplicationId, string? Direction, string? From, string? To,
    ReadOnlyMemory<byte> RawBody, string[] TicketStatuses);

internal sealed record IngestResult(
    bool Duplicate, long EventId, bool OutOfOrder, string? CallStatus, bool CallIsFinal, bool BecameFinal, int ActionsCreated);

/// <summary>
/// The hot path's only database work: one call of wr_ingest_event (Data/Sql), one round trip, one commit.
/// The statement text lives here once so benchmarks can issue exactly what the service issues.
/// </summary>
internal sealed class IngestStore(NpgsqlDataSource dataSource)
{
    public const string Sql =
        "SELECT result, event_id, out_of_order, call_status, call_is_final, became_final, actions_created " +
        "FROM wr_ingest_event($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

    public async Task<IngestResult> IngestAsync(IngestCommand c, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Sql);
        var p = command.Parameters;
        p.Add(new NpgsqlParameter<string> { TypedValue = c.Identity });
        p.Add(Text(c.WebhookId));
        p.Add(new NpgsqlParameter<string> { TypedValue = c.CallId });
        p.Add(new NpgsqlParameter<string> { TypedValue = c.Event });
        p.Add(Text(c.Status));
        p.Add(new NpgsqlParameter<bool> { TypedValue = c.IsFinal });
        p.Add(new NpgsqlParameter<DateTime> { TypedValue = c.CreatedAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        p.Add(Text(c.CustomerId));
        p.Add(Text(c.ApplicationId));
        p.Add(Text(c.Direction));
        p.Add(Text(c.From));
        p.Add(Text(c.To));
        p.Add(new NpgsqlParameter<ReadOnlyMemory<byte>> { TypedValue = c.RawBody, NpgsqlDbType = NpgsqlDbType.Bytea });
        p.Add(new NpgsqlParameter<string[]> { TypedValue = c.TicketStatuses, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new InvalidOperationException("wr_ingest_event returned no row");
        }
        return new IngestResult(
            Duplicate: reader.GetString(0) == "duplicate",
            EventId: reader.GetInt64(1),
            OutOfOrder: reader.GetBoolean(2),
            CallStatus: reader.IsDBNull(3) ? null : reader.GetString(3),
            CallIsFinal: reader.GetBoolean(4),
            BecameFinal: reader.GetBoolean(5),
            ActionsCreated: reader.GetInt32(6));
    }

    private static NpgsqlParameter Text(string? value) =>
        new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };
}
