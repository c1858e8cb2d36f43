using System;
using Microsoft.EntityFrameworkCore.Migrations;
using WebhookReceiver.Data.Sql;

#nullable disable

namespace WebhookReceiver.Data.Migrations
{
    /// <inheritdoc />
    public partial class OperatorReplays : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_call_actions_event_id_action",
                table: "call_actions");

            migrationBuilder.DropIndex(
                name: "ix_call_actions_one_ticket_per_call",
                table: "call_actions");

            migrationBuilder.AddColumn<DateTime>(
                name: "reingested_at",
                table: "quarantined_webhooks",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "reingested_by",
                table: "quarantined_webhooks",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "reingested_event_id",
                table: "quarantined_webhooks",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "replay_of",
                table: "call_actions",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "requested_by",
                table: "call_actions",
                type: "text",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_call_actions_event_id_action",
                table: "call_actions",
                columns: new[] { "event_id", "action" },
                unique: true,
                filter: "replay_of IS NULL");


            migrationBuilder.CreateIndex(
                name: "ix_call_actions_one_ticket_per_call",
                table: "call_actions",
                column: "call_id",
                unique: true,
                filter: "action = 'ticket.create' AND replay_of IS NULL");
            // After the index change, in the same transaction: the ingest must infer the new ticket index.
            migrationBuilder.Sql(SqlScripts.Read("002_replays.sql"));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_call_actions_event_id_action",
                table: "call_actions");


            migrationBuilder.DropIndex(
                name: "ix_call_actions_one_ticket_per_call",
                table: "call_actions");

            migrationBuilder.DropColumn(
                name: "reingested_at",
                table: "quarantined_webhooks");

            migrationBuilder.DropColumn(
                name: "reingested_by",
                table: "quarantined_webhooks");

            migrationBuilder.DropColumn(
                name: "reingested_event_id",
                table: "quarantined_webhooks");

            migrationBuilder.DropColumn(
                name: "replay_of",
                table: "call_actions");

            migrationBuilder.DropColumn(
                name: "requested_by",
                table: "call_actions");

            migrationBuilder.CreateIndex(
                name: "ix_call_actions_event_id_action",
                table: "call_actions",
                columns: new[] { "event_id", "action" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_call_actions_one_ticket_per_call",
                table: "call_actions",
                column: "call_id",
                unique: true,
                filter: "action = 'ticket.create'");
            migrationBuilder.Sql(SqlScripts.Read("001_ingest_event.sql"));
        }
    }
}
