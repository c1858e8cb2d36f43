using System.Net;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Calls;

/// <summary>
/// Upgrading a database whose calls kept one fields_at for all call fields: each present field takes that time,
/// the ingest then applies the per-field rule to the upgraded rows, and the migration can be rolled back.
/// </summary>
public sealed class CallFieldTimesMigrationTests
{
    private const string Before = "20261201061415_DeliveryLedger";
    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly string[] TimeColumns =
        ["customer_id_at", "application_id_at", "direction_at", "from_number_at", "to_number_at"];

    [Fact]
    public Task An_upgraded_call_keeps_its_fields_and_gives_each_present_one_the_old_shared_time() =>
        Hosts.WithDatabaseAsync("wr_fields_upgrade", async database =>
        {
            await Db.MigrateAsync(database, Before);
            await Db.ExecuteAsync(database,
                "INSERT INTO calls (id, customer_id, application_id, direction, from_number, to_number, status, is_final, status_at, " +
                "fields_at, first_event_at, last_event_at, activity_at, variables, variable_times, recordings, transcripts, ai_results) " +
                "VALUES ('call_upgraded', 'cust_A', NULL, 'inbound', '+15550000001', NULL, 'ringing', false, $1, $1, $1, $1, $1, " +
                "'{}', '{}', '[]', '[]', '[]')", T0.AddSeconds(30).UtcDateTime);

            await Db.MigrateAsync(database, null);

            Assert.Equal(0, await Db.CountAsync(database,
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'calls' AND column_name = 'fields_at'"));
            var at = T0.AddSeconds(30).UtcDateTime;
            Assert.Equal(at, await Db.ScalarAsync<DateTime>(database, "SELECT customer_id_at FROM calls WHERE id = 'call_upgraded'"));
            Assert.Equal(at, await Db.ScalarAsync<DateTime>(database, "SELECT direction_at FROM calls WHERE id = 'call_upgraded'"));
            Assert.Equal(at, await Db.ScalarAsync<DateTime>(database, "SELECT from_number_at FROM calls WHERE id = 'call_upgraded'"));
            Assert.Equal(1, await Db.CountAsync(database,
                "SELECT count(*) FROM calls WHERE id = 'call_upgraded' AND application_id_at IS NULL AND to_number_at IS NULL"));

            // An older event: it cannot replace the fields the upgraded row holds, and fills the ones it lacks.
            await using var host = await Hosts.StartAsync(database, new Dictionary<string, string?>());
            var fields = new Dictionary<string, string?>
            {
                ["customer_id"] = "cust_old", ["application_id"] = "app_old", ["direction"] = "outbound", ["from"] = "+15550000009",
                ["to"] = "+15550000019",
            };
            var older = MiniVoiceEvents.Event("call_upgraded", "call.ringing", "ringing", T0.AddSeconds(10), callFields: fields);
            using (var response = await host.PostSignedAsync(older))
            {
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }
            var call = await host.GetJsonAsync("/calls/call_upgraded");
            Assert.Equal("cust_A", call.GetProperty("customer_id").GetString());
            Assert.Equal("inbound", call.GetProperty("direction").GetString());
            Assert.Equal("+15550000001", call.GetProperty("from").GetString());
            Assert.Equal("app_old", call.GetProperty("application_id").GetString());
            Assert.Equal("+15550000019", call.GetProperty("to").GetString());
        });

    [Fact]
    public Task Rolling_the_migration_back_restores_the_shared_time_and_the_previous_ingest() =>
        Hosts.WithDatabaseAsync("wr_fields_rollback", async database =>
        {
            await Db.MigrateAsync(database, null);
            await using (var host = await Hosts.StartAsync(database, new Dictionary<string, string?>()))
            {
                using var response = await host.PostSignedAsync(MiniVoiceEvents.Event("call_rolled_back", "call.ringing", "ringing", T0));
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }

            await Db.MigrateAsync(database, Before);

            foreach (var column in TimeColumns)
            {
                Assert.Equal(0, await Db.CountAsync(database,
                    "SELECT count(*) FROM information_schema.columns WHERE table_name = 'calls' AND column_name = $1", column));
            }
            Assert.Equal(1, await Db.CountAsync(database, "SELECT count(*) FROM calls WHERE fields_at = last_event_at"));
            // 001's ingest again, with 002's ticket predicate over 001's (what the database had before the upgrade).
            Assert.Equal(1, await Db.CountAsync(database,
                "SELECT count(*) FROM pg_proc WHERE proname = 'wr_ingest_event' AND prosrc LIKE '%v_take_fields%'"));
            Assert.Equal(1, await Db.CountAsync(database,
                "SELECT count(*) FROM pg_proc WHERE proname = 'wr_record_actions' AND prosrc LIKE '%replay_of IS NULL%'"));
            await Db.ExecuteAsync(database,
                "SELECT wr_ingest_event('evt:rolled', NULL, 'call_rolled_back', 'call.completed', 'completed', true, $1, 'cust_9', " +
                "NULL, NULL, NULL, NULL, convert_to('{\"data\":{}}', 'UTF8'), ARRAY['failed'])", T0.AddSeconds(5).UtcDateTime);
            Assert.Equal(1, await Db.CountAsync(database,
                "SELECT count(*) FROM calls WHERE id = 'call_rolled_back' AND customer_id = 'cust_9'"));

            await Db.MigrateAsync(database, null);
            Assert.Equal(1, await Db.CountAsync(database,
                "SELECT count(*) FROM calls WHERE id = 'call_rolled_back' AND customer_id_at = $1", T0.AddSeconds(5).UtcDateTime));
        });
}
