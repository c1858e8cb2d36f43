using System;
using Microsoft.EntityFrameworkCore.Migrations;
using WebhookReceiver.Data.Sql;

#nullable disable

namespace WebhookReceiver.Data.Migrations
{
    /// <inheritdoc />
    public partial class CallFieldTimes : Migration
    {
        private static readonly string[] Fields = ["customer_id", "application_id", "direction", "from_number", "to_number"];

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            foreach (var field in Fields)
            {
                migrationBuilder.AddColumn<DateTime>(
                    name: field + "_at",
                    table: "calls",
                    type: "timestamp with time zone",
                    nullable: true);
            }

            // The one time the fields shared is the best an upgraded row knows: each value present came from an
            // event no newer than it. A field still empty keeps no time, so the first event that carries it fills it.
            migrationBuilder.Sql(
                "UPDATE calls SET " +
                string.Join(", ", Fields.Select(f => $"{f}_at = CASE WHEN {f} IS NOT NULL THEN fields_at END")) +
                " WHERE fields_at IS NOT NULL;");

            migrationBuilder.DropColumn(
                name: "fields_at",
                table: "calls");

            // After the columns exist, in the same transaction: the ingest now writes the per-field times.
            migrationBuilder.Sql(SqlScripts.Read("004_call_fields.sql"));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "fields_at",
                table: "calls",
                type: "timestamp with time zone",
                nullable: true);

            // The old single time moved with every event of the call: it was last_event_at.
            migrationBuilder.Sql("UPDATE calls SET fields_at = last_event_at;");

            foreach (var field in Fields)
            {
                migrationBuilder.DropColumn(
                    name: field + "_at",
                    table: "calls");
            }

            // The previous ingest function is 001's; 002 then restores its own wr_record_actions over 001's.
            migrationBuilder.Sql(SqlScripts.Read("001_ingest_event.sql"));
            migrationBuilder.Sql(SqlScripts.Read("002_replays.sql"));
        }
    }
}
