using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WebhookReceiver.Data.Migrations
{
    /// <inheritdoc />
    public partial class StaleCalls : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "stale_at",
                table: "calls",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_calls_stale",
                table: "calls",
                columns: new[] { "activity_at", "id" },
                descending: new bool[0],
                filter: "stale_at IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_calls_stale_sweep",
                table: "calls",
                column: "updated_at",
                filter: "NOT is_final AND stale_at IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_calls_stale",
                table: "calls");

            migrationBuilder.DropIndex(
                name: "ix_calls_stale_sweep",
                table: "calls");

            migrationBuilder.DropColumn(
                name: "stale_at",
                table: "calls");
        }
    }
}
