using Npgsql;
using WebhookReceiver.Data;

namespace WebhookReceiver.Delivery;

/// <summary>
/// A destination as GET /destinations, the console and the gauges show it. <see cref="State"/> is closed, open,
/// half-open or paused (a pause wins); <see cref="Breaker"/> is the breaker's own state underneath.
/// </summary>
internal sealed record DestinationStatus(
    string Name, string Action, bool Configured, string State, string Breaker, bool Paused, string? PausedBy, DateTime? PausedAt,
    DateTime? OpenUntil, DateTime? HoldUntil, int ConsecutiveFailures, long InFlight, int MaxConcurrency, double RatePerSecond,
    long Pending, long Due, double OldestPendingSeconds, string? LastError, DateTime? LastErrorAt);

/// <summary>All destinations plus the totals the backlog gauges show.</summary>
internal sealed record DeliveryOverview(IReadOnlyList<DestinationStatus> Destinations, long QueueDepth, long TakenAt = 0)
{
    public long Pending => Destinations.Sum(d => d.Pending);
    public long Due => Destinations.Sum(d => d.Due);
    public double OldestPendingSeconds => Destinations.Select(d => d.OldestPendingSeconds).DefaultIfEmpty(0).Max();
}

/// <summary>Reads every destination's state and backlog in one query.</summary>
internal sealed class DestinationStatusReader(NpgsqlDataSource dataSource, DestinationCatalog catalog)
{
    private const string Sql =
        "SELECT t.name, coalesce(d.state, 'closed'), coalesce(d.paused, false), d.paused_by, d.paused_at, d.open_until, " +
        "  CASE WHEN d.hold_until > now() THEN d.hold_until END, coalesce(d.consecutive_failures, 0), d.last_error, d.last_error_at, " +
        "  (SELECT count(*) FROM delivery_slots s WHERE s.destination = t.name AND s.lease_until > now()), " +
        $"  (SELECT count(*) FROM call_actions a WHERE a.state = '{ActionState.Pending}' AND a.action = t.action), " +
        $"  (SELECT count(*) FROM call_actions a WHERE a.state = '{ActionState.Pending}' AND a.action = t.action " +
        $"AND a.next_attempt_at <= now() AND {ActionState.Unowned}), " +
        "  (SELECT coalesce(extract(epoch FROM now() - min(a.created_at)), 0)::float8 " +
        $"FROM call_actions a WHERE a.state = '{ActionState.Pending}' AND a.action = t.action), " +
        $"  (SELECT count(*) FROM {Database.HangfireSchema}.jobqueue WHERE fetchedat IS NULL) " +
        "FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(name, action, n) " +
        "LEFT JOIN delivery_destinations d ON d.name = t.name ORDER BY t.n";

    public async Task<DeliveryOverview> ReadAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(Sql);
        command.CommandTimeout = 5;
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = catalog.All.Select(d => d.Name).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = catalog.All.Select(d => d.Action).ToArray() });
        var list = new List<DestinationStatus>();
        long queueDepth = 0;
        await using var r = await command.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var d = catalog.Named(r.GetString(0))!;
            var state = r.GetBoolean(2) ? "paused" : r.GetString(1);
            list.Add(new DestinationStatus(d.Name, d.Action, d.Options.IsConfigured, state, r.GetString(1), r.GetBoolean(2), Text(r, 3),
                Time(r, 4), Time(r, 5), Time(r, 6), r.GetInt32(7), r.GetInt64(10), d.Options.MaxConcurrency, d.Options.RatePerSecond,
                r.GetInt64(11), r.GetInt64(12), r.GetDouble(13), Text(r, 8), Time(r, 9)));
            queueDepth = r.GetInt64(14);
        }
        return new DeliveryOverview(list, queueDepth);
    }

    private static string? Text(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static DateTime? Time(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetDateTime(i);
}
