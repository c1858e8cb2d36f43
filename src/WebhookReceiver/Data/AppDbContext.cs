using Microsoft.EntityFrameworkCore;

namespace WebhookReceiver.Data;

internal sealed class AppDbContext(DbContextOptions<AppDbContext> options) : DbContext(options)
{
    public DbSet<CallRecord> Calls => Set<CallRecord>();
    public DbSet<WebhookEvent> Events => Set<WebhookEvent>();
    public DbSet<QuarantinedWebhook> Quarantine => Set<QuarantinedWebhook>();
    public DbSet<CallAction> Actions => Set<CallAction>();
    public DbSet<WebhookReceipt> Receipts => Set<WebhookReceipt>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<CallRecord>(call =>
        {
            call.ToTable("calls");
            call.HasKey(c => c.Id);
            call.Property(c => c.Id).HasMaxLength(128);
            foreach (var json in new[] { nameof(CallRecord.Variables), nameof(CallRecord.VariableTimes), nameof(CallRecord.Recordings),
                         nameof(CallRecord.Transcripts), nameof(CallRecord.AiResults), nameof(CallRecord.Billing) })
            {
                call.Property(json).HasColumnType("jsonb");
            }
            call.Property(c => c.CreatedAt).HasDefaultValueSql("now()");
            call.Property(c => c.UpdatedAt).HasDefaultValueSql("now()");
            call.Property(c => c.ActivityAt).HasDefaultValueSql("now()");
            // Keyset pagination: newest activity first, id as tie-breaker.
            call.HasIndex(c => new { c.ActivityAt, c.Id }).IsDescending(true, true);
            call.HasIndex(c => new { c.CustomerId, c.ActivityAt, c.Id }).IsDescending(false, true, true);
            call.HasIndex(c => new { c.Status, c.ActivityAt, c.Id }).IsDescending(false, true, true);
            // The stale sweep's work list: only calls still waiting for a final status (final rows leave the index).
            call.HasIndex(c => c.UpdatedAt, "ix_calls_stale_sweep").HasFilter("NOT is_final AND stale_at IS NULL")
                .HasDatabaseName("ix_calls_stale_sweep");
            // GET /calls?stale=true in list order; holds only the stale calls.
            call.HasIndex(c => new { c.ActivityAt, c.Id }, "ix_calls_stale").IsDescending(true, true).HasFilter("stale_at IS NOT NULL")
                .HasDatabaseName("ix_calls_stale");
        });

        modelBuilder.Entity<WebhookEvent>(evt =>
        {
            evt.ToTable("webhook_events");
            evt.Property(e => e.Id).UseIdentityAlwaysColumn();
            evt.HasIndex(e => e.Identity).IsUnique();
            evt.HasIndex(e => new { e.CallId, e.CreatedAt });
            evt.Property(e => e.Body).HasColumnType("jsonb");
            evt.Property(e => e.RequestHeaders).HasColumnType("jsonb");
            evt.Property(e => e.ReceivedAt).HasDefaultValueSql("now()");
            // GET /events?json=: `body @> $1::jsonb` is answered from this index (jsonb_path_ops: containment only, smaller).
            // A GIN index buffers new entries in a pending list that the inserting statement flushes when it is full:
            // with the default 4 MB one ingest batch in a few thousand paid tens of ms (p99 31–37 ms at c = 32).
            // 128 kB makes the flushes small and frequent (p99 17–22 ms; /tmp A/B runs in the #6 note).
            evt.HasIndex(e => e.Body).HasMethod("gin").HasOperators("jsonb_path_ops").HasDatabaseName("ix_webhook_events_body_path_ops")
                .HasStorageParameter("gin_pending_list_limit", 128);
            // GET /events: newest received first, keyset on (received_at, id).
            evt.HasIndex(e => new { e.ReceivedAt, e.Id }).IsDescending(true, true);
        });

        modelBuilder.Entity<WebhookReceipt>(r =>
        {
            r.ToTable("webhook_receipts");
            r.Property(e => e.Id).UseIdentityAlwaysColumn();
            r.HasIndex(e => new { e.ReceivedAt, e.Id }).IsDescending(true, true);
            r.HasIndex(e => new { e.Result, e.ReceivedAt, e.Id }).IsDescending(false, true, true);
            r.HasIndex(e => e.CallId).HasFilter("call_id IS NOT NULL");
        });

        modelBuilder.Entity<QuarantinedWebhook>(q =>
        {
            q.ToTable("quarantined_webhooks");
            q.Property(e => e.Id).UseIdentityAlwaysColumn();
            q.Property(e => e.Errors).HasColumnType("jsonb");
            q.Property(e => e.Headers).HasColumnType("jsonb");
            q.Property(e => e.ReceivedAt).HasDefaultValueSql("now()");
            q.HasIndex(e => e.ReceivedAt);
        });

        modelBuilder.Entity<CallAction>(a =>
        {
            a.ToTable("call_actions");
            a.Property(e => e.Id).UseIdentityAlwaysColumn();
            a.HasIndex(e => new { e.CallId, e.Id });
            // Once per (event, action) and one ticket per call, whatever the number of failing events; an
            // operator's replay is the deliberate exception.
            a.HasIndex(e => new { e.EventId, e.Action }).IsUnique().HasFilter("replay_of IS NULL");
            a.HasIndex(e => e.CallId).IsUnique().HasFilter("action = 'ticket.create' AND replay_of IS NULL")
                .HasDatabaseName("ix_call_actions_one_ticket_per_call");
            // The dispatcher's work list: due pending rows per action, oldest due first, however large the table grows.
            a.HasIndex(e => new { e.Action, e.NextAttemptAt }).HasFilter("state = 'pending'").HasDatabaseName("ix_call_actions_due");
            a.Property(e => e.NextAttemptAt).HasDefaultValueSql("now()");
            a.Property(e => e.CreatedAt).HasDefaultValueSql("now()");
            a.Property(e => e.UpdatedAt).HasDefaultValueSql("now()");
            // GET /actions/failures reads only failing rows, by time: the index holds just those.
            a.HasIndex(e => e.LastAttemptAt).HasFilter(ActionState.FailingFilter).HasDatabaseName("ix_call_actions_failing");
        });
    }
}
