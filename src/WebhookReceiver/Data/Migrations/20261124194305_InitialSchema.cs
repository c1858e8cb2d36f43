using System;
using Microsoft.EntityFrameworkCore.Migrations;
using WebhookReceiver.Data.Sql;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace WebhookReceiver.Data.Migrations
{
    /// <inheritdoc />
    public partial class InitialSchema : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "call_actions",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    call_id = table.Column<string>(type: "text", nullable: false),
                    event_id = table.Column<long>(type: "bigint", nullable: true),
                    action = table.Column<string>(type: "text", nullable: false),
                    state = table.Column<string>(type: "text", nullable: false),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    last_error = table.Column<string>(type: "text", nullable: true),
                    last_http_status = table.Column<int>(type: "integer", nullable: true),
                    dispatched_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    job_id = table.Column<string>(type: "text", nullable: true),
                    first_attempt_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    last_attempt_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()"),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()"),
                    completed_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_call_actions", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "calls",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    customer_id = table.Column<string>(type: "text", nullable: true),
                    application_id = table.Column<string>(type: "text", nullable: true),
                    direction = table.Column<string>(type: "text", nullable: true),
                    from_number = table.Column<string>(type: "text", nullable: true),
                    to_number = table.Column<string>(type: "text", nullable: true),
                    status = table.Column<string>(type: "text", nullable: true),
                    is_final = table.Column<bool>(type: "boolean", nullable: false),
                    status_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    fields_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    first_event_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    last_event_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    activity_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()"),
                    variables = table.Column<string>(type: "jsonb", nullable: false),
                    variable_times = table.Column<string>(type: "jsonb", nullable: false),
                    recordings = table.Column<string>(type: "jsonb", nullable: false),
                    transcripts = table.Column<string>(type: "jsonb", nullable: false),
                    ai_results = table.Column<string>(type: "jsonb", nullable: false),
                    billing = table.Column<string>(type: "jsonb", nullable: true),
                    billing_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()"),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()")
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_calls", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "quarantined_webhooks",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    received_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()"),
                    reason = table.Column<string>(type: "text", nullable: false),
                    errors = table.Column<string>(type: "jsonb", nullable: false),
                    raw_body = table.Column<byte[]>(type: "bytea", nullable: false),
                    body_length = table.Column<int>(type: "integer", nullable: false),
                    truncated = table.Column<bool>(type: "boolean", nullable: false),
                    headers = table.Column<string>(type: "jsonb", nullable: false),
                    remote_address = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_quarantined_webhooks", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "webhook_events",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    identity = table.Column<string>(type: "text", nullable: false),
                    webhook_id = table.Column<string>(type: "text", nullable: true),
                    call_id = table.Column<string>(type: "text", nullable: false),
                    @event = table.Column<string>(name: "event", type: "text", nullable: false),
                    status = table.Column<string>(type: "text", nullable: true),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    received_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()"),
                    out_of_order = table.Column<bool>(type: "boolean", nullable: false),
                    raw_body = table.Column<byte[]>(type: "bytea", nullable: false),
                    body = table.Column<string>(type: "jsonb", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_webhook_events", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_call_actions_call_id_id",
                table: "call_actions",
                columns: new[] { "call_id", "id" });

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

            migrationBuilder.CreateIndex(
                name: "ix_calls_activity_at_id",
                table: "calls",
                columns: new[] { "activity_at", "id" },
                descending: new bool[0]);

            migrationBuilder.CreateIndex(
                name: "ix_calls_customer_id_activity_at_id",
                table: "calls",
                columns: new[] { "customer_id", "activity_at", "id" },
                descending: new[] { false, true, true });

            migrationBuilder.CreateIndex(
                name: "ix_calls_status_activity_at_id",
                table: "calls",
                columns: new[] { "status", "activity_at", "id" },
                descending: new[] { false, true, true });

            migrationBuilder.CreateIndex(
                name: "ix_quarantined_webhooks_received_at",
                table: "quarantined_webhooks",
                column: "received_at");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_events_call_id_created_at",
                table: "webhook_events",
                columns: new[] { "call_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_webhook_events_identity",
                table: "webhook_events",
                column: "identity",
                unique: true);
            migrationBuilder.Sql(SqlScripts.Read("001_ingest_event.sql"));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS wr_ingest_event; DROP FUNCTION IF EXISTS wr_record_actions; DROP FUNCTION IF EXISTS wr_append_items; DROP FUNCTION IF EXISTS wr_merge_variables;");

            migrationBuilder.DropTable(
                name: "call_actions");

            migrationBuilder.DropTable(
                name: "calls");

            migrationBuilder.DropTable(
                name: "quarantined_webhooks");

            migrationBuilder.DropTable(
                name: "webhook_events");
        }
    }
}
