using Npgsql;
using NpgsqlTypes;

namespace WebhookReceiver.Webhooks;

internal sealed record IngestCommand(
    string Identity, string? WebhookId, string CallId, string Event, string? Status, bool IsFinal,
    DateTimeOffset CreatedAt, string? CustomerId, string? ApplicationId, string? Direction, string? From, string? To,
    ReadOnlyMemory<byte> RawBody, string? RequestHeaders = null, string? TraceParent = null)
{
    /// <summary>The command for a validated payload (the webhook endpoint and an operator's re-ingest alike).</summary>
    /// <param name="traceParent">The request's W3C traceparent when it is traced (stored with its outbox rows), else null.</param>
    public static IngestCommand For(WebhookPayload payload, string? webhookId, ReadOnlyMemory<byte> body,
        string? requestHeaders = null, string? traceParent = null)
    {
        var status = Calls.CallStatus.Normalize(payload.Status);
        return new IngestCommand(
            EventIdentity.For(webhookId, payload.CallId!, payload.Event!, payload.CreatedAt!.Value), webhookId,
            payload.CallId!, payload.Event!,
            status, Calls.CallStatus.IsFinal(status), payload.CreatedAt.Value, payload.CustomerId, payload.ApplicationId,
            payload.Direction, payload.From, payload.To, body, requestHeaders, traceParent);
    }
}

/// <summary>What storing one event did: a duplicate (its EventId is the stored one), or a new event.</summary>
internal sealed record IngestResult(bool Duplicate, long EventId, bool OutOfOrder, int ActionsCreated);

/// <summary>
/// The hot path's only database work. A batch of events goes to PostgreSQL as one round trip and one commit (the
/// NpgsqlBatch is PostgreSQL's implicit transaction, so it is all or nothing): first the batch's calls are locked
/// (advisory locks in one order, so concurrent batches neither interleave on a call nor deadlock), then one
/// set-based statement per round (Data/Sql/ingest_batch.sql; <see cref="IngestRounds"/>).
/// </summary>
/// <remarks>The ticket statuses are the process's configuration, one value for every batch: held here, not per event.</remarks>
internal sealed class IngestStore(NpgsqlDataSource dataSource, TicketStatuses ticketStatuses)
{
    /// <summary>Data/Sql/ingest_batch.sql: bench/run.sh builds its pgbench script from the same file.</summary>
    public static readonly string Sql = Data.Sql.SqlScripts.Read("ingest_batch.sql");

    /// <summary>Data/Sql/ingest_lock.sql, the batch's first statement.</summary>
    public static readonly string LockSql = Data.Sql.SqlScripts.Read("ingest_lock.sql");

    private const string DuplicateIdsSql = "SELECT identity, id FROM webhook_events WHERE identity = ANY($1)";

    /// <summary>
    /// Stores the events atomically; on any error nothing of the batch is committed. <paramref name="openCancellation"/>
    /// bounds only the wait for a connection: once the batch is sent, it runs to its commit or its error.
    /// </summary>
    public async Task<IngestResult[]> IngestAsync(IReadOnlyList<IngestCommand> commands, CancellationToken openCancellation)
    {
        var rounds = IngestRounds.Split(commands);
        var results = new IngestResult[commands.Count];
        await using var connection = await OpenAsync(openCancellation);
        var cancellationToken = CancellationToken.None; // the batch, once sent, is never cut short
        await using (var batch = new NpgsqlBatch(connection))
        {
            var lockCommand = new NpgsqlBatchCommand(LockSql);
            lockCommand.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = commands.Select(c => c.CallId).ToArray() });
            batch.BatchCommands.Add(lockCommand);
            foreach (var round in rounds)
            {
                batch.BatchCommands.Add(RoundCommand(commands, round));
            }
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            foreach (var round in rounds)
            {
                await reader.NextResultAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var position = round[(int)reader.GetInt64(0) - 1];
                    results[position] = new IngestResult(
                        Duplicate: reader.IsDBNull(1),
                        EventId: reader.IsDBNull(2) ? 0 : reader.GetInt64(2),
                        OutOfOrder: reader.GetBoolean(3),
                        ActionsCreated: reader.GetInt32(4));
                }
            }
        }
        if (results.Any(r => r is null))
        {
            throw new InvalidOperationException("the ingest statement did not answer for every event");
        }
        await ResolveDuplicatesAsync(connection, commands, results, cancellationToken);
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

    /// <summary>
    /// A duplicate whose first copy committed while this batch waited on it is not in the statement's snapshot:
    /// read its ID once the batch has committed (rare: two deliveries of one event racing).
    /// </summary>
    private static async Task ResolveDuplicatesAsync(NpgsqlConnection connection, IReadOnlyList<IngestCommand> commands,
        IngestResult[] results, CancellationToken cancellationToken)
    {
        var missing = Enumerable.Range(0, results.Length).Where(i => results[i].Duplicate && results[i].EventId == 0).ToList();
        if (missing.Count == 0)
        {
            return;
        }
        await using var command = new NpgsqlCommand(DuplicateIdsSql, connection);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = missing.Select(i => commands[i].Identity).ToArray() });
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                ids[reader.GetString(0)] = reader.GetInt64(1);
            }
        }
        foreach (var i in missing)
        {
            results[i] = results[i] with { EventId = ids.GetValueOrDefault(commands[i].Identity) };
        }
    }

    /// <summary>Sets one element of an array sent only when some element is set (empty until then: unnest pads it).</summary>
    private static void SetSparse(ref string?[] array, int n, int j, string? value)
    {
        if (value is null)
        {
            return;
        }
        if (array.Length == 0)
        {
            array = new string?[n];
        }
        array[j] = value;
    }

    private NpgsqlBatchCommand RoundCommand(IReadOnlyList<IngestCommand> commands, List<int> round)
    {
        var n = round.Count;
        var identity = new string[n];
        var webhookId = new string?[n];
        var callId = new string[n];
        var eventName = new string[n];
        var status = new string?[n];
        var isFinal = new bool[n];
        var createdAt = new DateTime[n];
        var customerId = new string?[n];
        var applicationId = new string?[n];
        var direction = new string?[n];
        var from = new string?[n];
        var to = new string?[n];
        var raw = new byte[n][];
        // unnest pads a shorter array with NULLs: a round without kept headers (Webhooks:KeepRequestHeaders false) or
        // without a traced request sends none at all.
        string?[] requestHeaders = [];
        string?[] traceParent = [];
        for (var j = 0; j < n; j++)
        {
            var c = commands[round[j]];
            (identity[j], webhookId[j], callId[j], eventName[j], status[j], isFinal[j]) =
                (c.Identity, c.WebhookId, c.CallId, c.Event, c.Status, c.IsFinal);
            createdAt[j] = c.CreatedAt.UtcDateTime;
            (customerId[j], applicationId[j], direction[j], from[j], to[j]) = (c.CustomerId, c.ApplicationId, c.Direction, c.From, c.To);
            raw[j] = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(c.RawBody, out var segment)
                     && segment.Offset == 0 && segment.Count == segment.Array!.Length
                ? segment.Array
                : c.RawBody.ToArray();
            SetSparse(ref requestHeaders, n, j, c.RequestHeaders);
            SetSparse(ref traceParent, n, j, c.TraceParent);
        }
        var command = new NpgsqlBatchCommand(Sql);
        var p = command.Parameters;
        p.Add(new NpgsqlParameter<string[]> { TypedValue = identity });
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = webhookId });
        p.Add(new NpgsqlParameter<string[]> { TypedValue = callId });
        p.Add(new NpgsqlParameter<string[]> { TypedValue = eventName });
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = status });
        p.Add(new NpgsqlParameter<bool[]> { TypedValue = isFinal });
        p.Add(new NpgsqlParameter<DateTime[]> { TypedValue = createdAt, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = customerId });
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = applicationId });
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = direction });
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = from });
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = to });
        p.Add(new NpgsqlParameter<byte[][]> { TypedValue = raw, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        p.Add(new NpgsqlParameter<string[]>
        {
            TypedValue = ticketStatuses.Canonical, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text,
        });
        // $15: the kept request headers as JSON text (cast to jsonb by the statement), empty when none is kept.
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = requestHeaders, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        // $16: the requests' trace contexts for their outbox rows (empty when none is traced).
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = traceParent, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        return command;
    }
}
