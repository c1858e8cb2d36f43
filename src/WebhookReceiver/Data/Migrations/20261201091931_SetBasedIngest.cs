using Microsoft.EntityFrameworkCore.Migrations;
using WebhookReceiver.Data.Sql;

#nullable disable

namespace WebhookReceiver.Data.Migrations
{
    /// <inheritdoc />
    public partial class SetBasedIngest : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The ingest is now Data/Sql/ingest_batch.sql (set-based, one statement per round of a batch) with the
            // rule functions of 005; the per-event PL/pgSQL goes, so the rules live in one place only.
            migrationBuilder.Sql(SqlScripts.Read("005_ingest_batch.sql"));
            migrationBuilder.Sql(
                "DROP FUNCTION wr_ingest_event(text, text, text, text, text, boolean, timestamptz, text, text, text, text, text, bytea, text[]);" +
                "DROP FUNCTION wr_record_actions(text, bigint, text, boolean, text[]);" +
                "DROP FUNCTION wr_merge_variables(jsonb, jsonb, jsonb, timestamptz);" +
                "DROP FUNCTION wr_append_items(jsonb, jsonb, text[]);");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // The per-event functions as CallFieldTimes left them: 001, then 002's wr_record_actions, then 004.
            migrationBuilder.Sql(SqlScripts.Read("001_ingest_event.sql"));
            migrationBuilder.Sql(SqlScripts.Read("002_replays.sql"));
            migrationBuilder.Sql(SqlScripts.Read("004_call_fields.sql"));
            migrationBuilder.Sql(
                "DROP FUNCTION wr_status_wins(text, boolean, timestamptz, text, boolean, timestamptz);" +
                "DROP FUNCTION wr_variables_merge(jsonb, jsonb, jsonb, jsonb);" +
                "DROP FUNCTION wr_items_of(jsonb, text[]);" +
                "DROP FUNCTION wr_items_append(jsonb, jsonb);");
        }
    }
}
