using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace WebhookReceiver.Data.Migrations
{
    /// <inheritdoc />
    public partial class ConsoleSearch : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "webhook_receipts",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    received_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    result = table.Column<string>(type: "text", nullable: false),
                    reason = table.Column<string>(type: "text", nullable: true),
                    call_id = table.Column<string>(type: "text", nullable: true),
                    @event = table.Column<string>(name: "event", type: "text", nullable: true),
                    webhook_id = table.Column<string>(type: "text", nullable: true),
                    body_bytes = table.Column<long>(type: "bigint", nullable: false),
                    remote_address = table.Column<string>(type: "text", nullable: true),
                    quarantine_id = table.Column<long>(type: "bigint", nullable: true),
                    event_id = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_webhook_receipts", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_webhook_events_body_path_ops",
                table: "webhook_events",
                column: "body")
                .Annotation("Npgsql:IndexMethod", "gin")
                .Annotation("Npgsql:IndexOperators", new[] { "jsonb_path_ops" })
                .Annotation("Npgsql:StorageParameter:gin_pending_list_limit", 128);

            migrationBuilder.CreateIndex(
                name: "ix_webhook_events_received_at_id",
                table: "webhook_events",
                columns: new[] { "received_at", "id" },
                descending: new bool[0]);

            migrationBuilder.CreateIndex(
                name: "ix_call_actions_failing",
                table: "call_actions",
                column: "last_attempt_at",
                filter: "state = 'failed' OR (state = 'pending' AND attempts > 0 AND last_error IS NOT NULL)");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_receipts_call_id",
                table: "webhook_receipts",
                column: "call_id",
                filter: "call_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_receipts_received_at_id",
                table: "webhook_receipts",
                columns: new[] { "received_at", "id" },
                descending: new bool[0]);

            migrationBuilder.CreateIndex(
                name: "ix_webhook_receipts_result_received_at_id",
                table: "webhook_receipts",
                columns: new[] { "result", "received_at", "id" },
                descending: new[] { false, true, true });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "webhook_receipts");

            migrationBuilder.DropIndex(
                name: "ix_webhook_events_body_path_ops",
                table: "webhook_events");

            migrationBuilder.DropIndex(
                name: "ix_webhook_events_received_at_id",
                table: "webhook_events");

            migrationBuilder.DropIndex(
                name: "ix_call_actions_failing",
                table: "call_actions");
        }
    }
}
