using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WebhookReceiver.Data.Migrations
{
    /// <inheritdoc />
    public partial class RetentionIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_webhook_events_received_at",
                table: "webhook_events",
                column: "received_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_webhook_events_received_at",
                table: "webhook_events");
        }
    }
}
