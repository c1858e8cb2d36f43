using System;
using Microsoft.EntityFrameworkCore.Migrations;
using WebhookReceiver.Data.Sql;

#nullable disable

namespace WebhookReceiver.Data.Migrations
{
    /// <inheritdoc />
    public partial class DeliveryLedger : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_call_actions_pending",
                table: "call_actions");

            migrationBuilder.DropIndex(
                name: "ix_call_actions_undispatched",
                table: "call_actions");

            // Work in flight is now a lease on the row; an upgraded database's pending rows start unowned and due.
            migrationBuilder.DropColumn(
                name: "dispatched_at",
                table: "call_actions");

            migrationBuilder.AddColumn<DateTime>(
                name: "lease_until",
                table: "call_actions",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "lease_owner",
                table: "call_actions",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "next_attempt_at",
                table: "call_actions",
                type: "timestamp with time zone",
                nullable: false,
                defaultValueSql: "now()");

            migrationBuilder.AddColumn<byte[]>(
                name: "payload",
                table: "call_actions",
                type: "bytea",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "retry_from",
                table: "call_actions",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateIndex(
                name: "ix_call_actions_due",
                table: "call_actions",
                columns: new[] { "action", "next_attempt_at" },
                filter: "state = 'pending'");

            // Destinations, their request lanes and the alerts' once-per-interval record: plain tables of the delivery
            // code (Delivery/Destinations), written only by guarded SQL statements, so they are not EF entities.
            migrationBuilder.Sql(SqlScripts.Read("003_delivery.sql"));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_call_actions_due",
                table: "call_actions");

            migrationBuilder.DropColumn(
                name: "lease_owner",
                table: "call_actions");

            migrationBuilder.DropColumn(
                name: "next_attempt_at",
                table: "call_actions");

            migrationBuilder.DropColumn(
                name: "payload",
                table: "call_actions");

            migrationBuilder.DropColumn(
                name: "retry_from",
                table: "call_actions");

            migrationBuilder.Sql("DROP TABLE delivery_alerts; DROP TABLE delivery_slots; DROP TABLE delivery_destinations;");

            migrationBuilder.DropColumn(
                name: "lease_until",
                table: "call_actions");

            migrationBuilder.AddColumn<DateTime>(
                name: "dispatched_at",
                table: "call_actions",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_call_actions_pending",
                table: "call_actions",
                columns: new[] { "state", "dispatched_at" },
                filter: "state = 'pending'");

            migrationBuilder.CreateIndex(
                name: "ix_call_actions_undispatched",
                table: "call_actions",
                column: "id",
                filter: "state = 'pending' AND dispatched_at IS NULL");
        }
    }
}
