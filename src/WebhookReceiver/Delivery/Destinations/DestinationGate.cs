using Npgsql;
using NpgsqlTypes;

namespace WebhookReceiver.Delivery;

/// <summary>What the dispatcher may claim for a destination now.</summary>
internal enum ClaimMode { Nothing, Batches, Probe }

/// <summary>
/// Sends a job may start now: <see cref="Granted"/>, or none because the destination is closed to sends, or none until
/// <see cref="Wait"/> passed.
/// </summary>
internal sealed record Permit(int Granted, bool Blocked, TimeSpan Wait);

/// <summary>
/// Every limit of a destination as guarded statements on its delivery_destinations row (pause, breaker,
/// Retry-After hold, token bucket) and its delivery_slots rows (the concurrency cap: a slot is a lease on one
/// request lane, so a crashed process's slots come free when their lease runs out). PostgreSQL holds the state,
/// so every process on the database shares one rate, one cap and one breaker.
/// </summary>
internal sealed class DestinationGate(NpgsqlDataSource dataSource)
{
    public async Task EnsureAsync(Destination d, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch();
        batch.BatchCommands.Add(Command("INSERT INTO delivery_destinations (name, tokens) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            d.Name, d.BucketSize));
        batch.BatchCommands.Add(Command("INSERT INTO delivery_slots (destination, slot) SELECT $1, g FROM generate_series(0, $2 - 1) g " +
            "ON CONFLICT DO NOTHING", d.Name, d.Options.MaxConcurrency));
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        batch.Connection = connection;
        await batch.ExecuteNonQueryAsync(ct);
    }

    private const string OpenForSends = "NOT paused AND (hold_until IS NULL OR hold_until <= now())";

    /// <summary>
    /// Closed: claim batches. Open (or half-open whose probe got lost) and its time is up: this caller, and only it,
    /// turns it half-open and claims one probe; its answer decides (<see cref="ReportAsync"/>). The turn is taken only
    /// while an action is there to claim: a turn taken with nothing due would hold every send back until the probe
    /// timed out (a lease), new work included.
    /// </summary>
    public async Task<ClaimMode> ClaimModeAsync(Destination d, TimeSpan probeTimeout, CancellationToken ct)
    {
        await using (var read = dataSource.CreateCommand(
            $"SELECT {OpenForSends} AND state = '{BreakerState.Closed}' FROM delivery_destinations WHERE name = $1"))
        {
            read.Parameters.Add(new NpgsqlParameter<string> { TypedValue = d.Name });
            if (await read.ExecuteScalarAsync(ct) is true)
            {
                return ClaimMode.Batches;
            }
        }
        await using var probe = dataSource.CreateCommand(
            $"UPDATE delivery_destinations SET state = '{BreakerState.HalfOpen}', open_until = now() + make_interval(secs => $2), " +
            "updated_at = now() " +
            $"WHERE name = $1 AND {OpenForSends} AND state <> '{BreakerState.Closed}' AND open_until <= now() " +
            $"AND EXISTS (SELECT 1 FROM call_actions c WHERE {ActionLedger.ClaimableSql("$3")})");
        probe.Parameters.Add(new NpgsqlParameter<string> { TypedValue = d.Name });
        probe.Parameters.Add(new NpgsqlParameter<double> { TypedValue = probeTimeout.TotalSeconds });
        probe.Parameters.Add(new NpgsqlParameter<string> { TypedValue = d.Action });
        return await probe.ExecuteNonQueryAsync(ct) == 1 ? ClaimMode.Probe : ClaimMode.Nothing;
    }

    /// <summary>Takes up to <paramref name="want"/> free request lanes for the batch's lease. Returns how many.</summary>
    public async Task<int> AcquireSlotsAsync(Destination d, Guid lease, int want, TimeSpan ttl, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "WITH free AS (SELECT slot FROM delivery_slots WHERE destination = $1 AND slot < $2 " +
            "AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $4) " +
            "  ORDER BY slot LIMIT $3 FOR UPDATE SKIP LOCKED) " +
            "UPDATE delivery_slots s SET lease_owner = $4, lease_until = now() + make_interval(secs => $5) FROM free " +
            "WHERE s.destination = $1 AND s.slot = free.slot");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = d.Name });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = d.Options.MaxConcurrency });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = want });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = lease });
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = ttl.TotalSeconds });
        return await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Before each wave of sends: is the destination still open to sends (not paused, not held, breaker not open),
    /// and how many requests may start under the shared rate. Unlimited rate: a read, no write.
    /// </summary>
    public async Task<Permit> TakePermitsAsync(Destination d, int want, CancellationToken ct)
    {
        var rate = d.Options.RatePerSecond;
        if (rate <= 0)
        {
            await using var check = dataSource.CreateCommand(
                $"SELECT {OpenForSends} AND state <> '{BreakerState.Open}' FROM delivery_destinations WHERE name = $1");
            check.Parameters.Add(new NpgsqlParameter<string> { TypedValue = d.Name });
            return await check.ExecuteScalarAsync(ct) is true ? new Permit(want, false, TimeSpan.Zero) : new Permit(0, true, TimeSpan.Zero);
        }
        await using var take = dataSource.CreateCommand(
            "WITH d AS (SELECT name, " + OpenForSends + $" AND state <> '{BreakerState.Open}' AS open, " +
            "    least($3::float8, tokens + extract(epoch FROM clock_timestamp() - refilled_at) * $2) AS avail " +
            "  FROM delivery_destinations WHERE name = $1 FOR UPDATE), " +
            "g AS (SELECT name, open, avail, CASE WHEN open THEN least($4, floor(avail))::int ELSE 0 END AS granted FROM d) " +
            "UPDATE delivery_destinations x SET tokens = g.avail - g.granted, refilled_at = clock_timestamp() " +
            "FROM g WHERE x.name = g.name " +
            "RETURNING g.granted, NOT g.open, g.avail");
        take.Parameters.Add(new NpgsqlParameter<string> { TypedValue = d.Name });
        take.Parameters.Add(new NpgsqlParameter<double> { TypedValue = rate });
        take.Parameters.Add(new NpgsqlParameter<double> { TypedValue = d.BucketSize });
        take.Parameters.Add(new NpgsqlParameter<int> { TypedValue = want });
        await using var reader = await take.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return new Permit(0, true, TimeSpan.Zero);
        }
        var (granted, blocked, avail) = (reader.GetInt32(0), reader.GetBoolean(1), reader.GetDouble(2));
        return new Permit(granted, blocked,
            granted > 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Max(0.001, (1 - avail + granted) / rate)));
    }

    /// <summary>Keeps the batch's lanes while it runs longer than a lease.</summary>
    public async Task ExtendSlotsAsync(Guid lease, TimeSpan ttl, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE delivery_slots SET lease_until = now() + make_interval(secs => $2) WHERE lease_owner = $1");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = lease });
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = ttl.TotalSeconds });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The batch's answers move the breaker (under the row's lock, so concurrent batches count together), a 429/503
    /// with Retry-After holds the destination, and the batch's lanes come free — one transaction, on the caller's
    /// connection and transaction (the ledger's outcomes commit with it).
    /// </summary>
    public static async Task<(BreakerRow Before, BreakerChange After)?> ReportAsync(NpgsqlConnection connection, Destination d, Guid lease,
        BatchReport report, CancellationToken ct)
    {
        await using (var release = new NpgsqlCommand(
            "UPDATE delivery_slots SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1", connection))
        {
            release.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = lease });
            await release.ExecuteNonQueryAsync(ct);
        }
        if (report.Ups + report.Failures == 0)
        {
            return null;
        }
        BreakerRow before;
        await using (var read = new NpgsqlCommand(
            "SELECT state, consecutive_failures, open_seconds FROM delivery_destinations WHERE name = $1 FOR UPDATE", connection))
        {
            read.Parameters.Add(new NpgsqlParameter<string> { TypedValue = d.Name });
            await using var reader = await read.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return null;
            }
            before = new BreakerRow(reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2));
        }
        var after = Breaker.After(before, report, d.Options.Breaker);
        await using var write = new NpgsqlCommand(
            "UPDATE delivery_destinations SET state = $2, consecutive_failures = $3, open_seconds = $4, " +
            "open_until = CASE WHEN $5::float8 IS NULL THEN open_until ELSE now() + make_interval(secs => $5) END, " +
            "hold_until = CASE WHEN $6::float8 IS NULL THEN hold_until ELSE greatest(hold_until, now() + make_interval(secs => $6)) END, " +
            "last_error = coalesce($7, last_error), last_error_at = CASE WHEN $7 IS NULL THEN last_error_at ELSE now() END, " +
            "updated_at = now() " +
            "WHERE name = $1", connection);
        write.Parameters.Add(new NpgsqlParameter<string> { TypedValue = d.Name });
        write.Parameters.Add(new NpgsqlParameter<string> { TypedValue = after.Row.State });
        write.Parameters.Add(new NpgsqlParameter<int> { TypedValue = after.Row.ConsecutiveFailures });
        write.Parameters.Add(new NpgsqlParameter<int> { TypedValue = after.Row.OpenSeconds });
        write.Parameters.Add(
            new NpgsqlParameter { Value = (object?)after.OpenFor?.TotalSeconds ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double });
        write.Parameters.Add(
            new NpgsqlParameter { Value = (object?)report.Hold?.TotalSeconds ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double });
        write.Parameters.Add(new NpgsqlParameter { Value = (object?)report.LastError ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        await write.ExecuteNonQueryAsync(ct);
        return (before, after);
    }

    /// <summary>Pauses or resumes a destination. Returns whether it changed (false: it already was, or is unknown).</summary>
    public async Task<bool> SetPausedAsync(Destination d, bool paused, string by, CancellationToken ct)
    {
        await EnsureAsync(d, ct);
        await using var command = dataSource.CreateCommand(
            "UPDATE delivery_destinations SET paused = $2, paused_by = CASE WHEN $2 THEN $3 END, " +
            "paused_at = CASE WHEN $2 THEN now() END, " +
            "updated_at = now() WHERE name = $1 AND paused <> $2");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = d.Name });
        command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = paused });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = by });
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    private static NpgsqlBatchCommand Command(string sql, params object[] args)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var arg in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = arg });
        }
        return command;
    }
}
