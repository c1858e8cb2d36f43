using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WebhookReceiver.Data.Migrations
{
    /// <inheritdoc />
    public partial class ActionErrorKind : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "last_error_kind",
                table: "call_actions",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "last_error_kind",
                table: "call_actions");
        }
    }
}
