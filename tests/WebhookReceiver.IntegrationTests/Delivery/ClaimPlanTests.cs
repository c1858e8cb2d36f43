using System.Text.Json;
using WebhookReceiver.Delivery;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Delivery;

/// <summary>
/// The claim's "oldest pending action of its call" check must look up each row's call, whatever the statistics say.
/// Autovacuum's ANALYZE right after a drain records that no row is pending; a burst then adds thousands, and a planner
/// trusting those statistics checked every claimable row against every pending row of its action through the partial
/// index of due rows: quadratic (a pipeline bench run saw the claim cancelled by its 30 s command timeout twice in a
/// row, and delivery stalled for a minute).
/// </summary>
public sealed class ClaimPlanTests
{
    private const int Pending = 3000;

    [Fact]
    public Task The_claim_reads_each_rows_call_even_when_statistics_saw_no_pending_row() =>
        Hosts.WithDatabaseAsync("wr_claim_plan", async database =>
        {
            await Db.MigrateAsync(database);
            await Db.ExecuteAsync(database,
                "INSERT INTO call_actions (call_id, action, state, attempts, next_attempt_at) " +
                "SELECT 'done_' || g, 'crm.sync', 'succeeded', 1, now() - interval '1 hour' FROM generate_series(1, 20000) g");
            await Db.ExecuteAsync(database, "ANALYZE call_actions");
            await Db.ExecuteAsync(database,
                "INSERT INTO call_actions (call_id, action, state, attempts, next_attempt_at) " +
                $"SELECT 'burst_' || (g / 2), 'crm.sync', 'pending', 0, now() - interval '1 minute' FROM generate_series(1, {Pending}) g");

            var plan = await ExplainAsync(database,
                $"SELECT c.id FROM call_actions c WHERE {ActionLedger.ClaimableSql("$1")} ORDER BY c.next_attempt_at, c.id LIMIT 256",
                "crm.sync");

            // Each claimable row is read once and its call's earlier actions once (two per call here): a few rows per
            // pending row. Checking against every pending row of the action reads ~Pending² / 2 (4.5 million).
            var examined = RowsExamined(plan);
            Assert.True(examined <= 10L * Pending, $"the claim examined {examined} rows for {Pending} pending actions:\n{plan}");
            // Half the burst's rows have an older pending sibling in their call: only the first of each call is claimable.
            Assert.Equal(256, RootRows(plan));
        });

    /// <summary>Every plan node's rows produced and rows filtered away, over all its loops.</summary>
    private static long RowsExamined(JsonElement node)
    {
        var loops = node.GetProperty("Actual Loops").GetInt64();
        var rows = node.GetProperty("Actual Rows").GetInt64();
        var removed = 0L;
        foreach (var name in new[] { "Rows Removed by Filter", "Rows Removed by Join Filter", "Rows Removed by Index Recheck" })
        {
            if (node.TryGetProperty(name, out var value))
            {
                removed += value.GetInt64();
            }
        }
        var total = (rows + removed) * loops;
        if (node.TryGetProperty("Plans", out var children))
        {
            total += children.EnumerateArray().Sum(RowsExamined);
        }
        return total;
    }

    private static long RootRows(JsonElement plan) => plan.GetProperty("Actual Rows").GetInt64();

    private static async Task<JsonElement> ExplainAsync(string connectionString, string sql, string action)
    {
        var json = await Db.ScalarAsync<string>(connectionString, "EXPLAIN (ANALYZE, FORMAT JSON) " + sql, action);
        return JsonDocument.Parse(json!).RootElement[0].GetProperty("Plan").Clone();
    }
}
