using Npgsql;
using NpgsqlTypes;

namespace WebhookReceiver.Webhooks;

internal sealed record IngestCommand(
    string Identity, string? WebhookId, string CallId, string Event, string? Status, bool IsFinal,
    DateTimeOffset CreatedAt, string? CustomerId, string? ApplicationId, string? Direction, string? From, string? To,
    ReadOnlyMemory<byte> RawBody, string[] TicketStatuses)
{
    /// <summary>The command for a validated payload (the webhook endpoint and an operator's re-ingest alike).</summary>
    public static IngestCommand For(WebhookPayload payload, string? webhookId, ReadOnlyMemory<byte> body, string[] ticketStatuses)
    {
        var status = Calls.CallStatus.Normalize(payload.Status);
        return new IngestCommand(
            EventIdentity.For(webhookId, payload.CallId!, payload.Event!, payload.CreatedAt!.Value), webhookId,
            payload.CallId!, payload.Event!,
            status, Calls.CallStatus.IsFinal(status), payload.CreatedAt.Value, payload.CustomerId, payload.ApplicationId,
            payload.Direction, payload.From, payload.To, body, ticketStatuses);
    }
}

internal sealed record IngestResult(
    bool Duplicate, long EventId, bool OutOfOrder, string? CallStatus, bool CallIsFinal, bool BecameFinal, int ActionsCreated);

/// <summary>
/// The hot path's only database work: wr_ingest_event (Data/Sql) once per event. Several events go to
/// PostgreSQL as one batch: one round trip and one commit (the batch is PostgreSQL's implicit transaction,
/// so it is all or nothing). The statement text lives in one file, which the benchmark reads too.
/// </summary>
internal sealed class IngestStore(NpgsqlDataSource dataSource)
{
    /// <summary>Data/Sql/ingest_event.call.sql: bench/run.sh builds its pgbench script from the same file.</summary>
    public static readonly string Sql = Data.Sql.SqlScripts.Read("ingest_event.call.sql");

    /// <summary>
    /// Stores the events atomically; on any error nothing of the batch is committed. <paramref name="openCancellation"/>
    /// bounds only the wait for a connection: once the batch is sent, it runs to its commit or its error.
    /// </summary>
    public async Task<IngestResult[]> IngestAsync(IReadOnlyList<IngestCommand> commands, CancellationToken openCancellation)
    {
        await using var connection = await OpenAsync(openCancellation);
        var cancellationToken = CancellationToken.None; // the batch, once sent, is never cut short
        await using var batch = new NpgsqlBatch(connection);
        foreach (var c in commands)
        {
            batch.BatchCommands.Add(Command(c));
        }
        var results = new IngestResult[commands.Count];
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        for (var i = 0; i < results.Length; i++)
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw new InvalidOperationException("wr_ingest_event returned no row");
            }
            results[i] = Read(reader);
            await reader.NextResultAsync(cancellationToken);
        }
        return results;
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        // Npgsql does not always give up at the token: against a listener that accepts the TCP connection and never
        // answers the start-up message, opens were seen to wait out the full connect timeout (5 s) regardless. So
        // stop waiting on our side, and leave the attempt to finish, and be closed, on its own.
        var open = dataSource.OpenConnectionAsync(cancellationToken).AsTask();
        try
        {
            return await open.WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            if (!open.IsCompleted)
            {
                _ = open.ContinueWith(static attempt =>
                {
                    if (attempt.IsCompletedSuccessfully)
                    {
                        attempt.Result.Dispose();
                    }
                    return attempt.Exception; // observed: an abandoned attempt's failure is not an unobserved task exception
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            throw new IngestConnectionException(ex);
        }
    }

    private static NpgsqlBatchCommand Command(IngestCommand c)
    {
        var command = new NpgsqlBatchCommand(Sql);
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
        return command;
    }

    private static IngestResult Read(NpgsqlDataReader reader) => new(
        Duplicate: reader.GetString(0) == "duplicate",
        EventId: reader.GetInt64(1),
        OutOfOrder: reader.GetBoolean(2),
        CallStatus: reader.IsDBNull(3) ? null : reader.GetString(3),
        CallIsFinal: reader.GetBoolean(4),
        BecameFinal: reader.GetBoolean(5),
        ActionsCreated: reader.GetInt32(6));

    private static NpgsqlParameter Text(string? value) =>
        new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };
}
