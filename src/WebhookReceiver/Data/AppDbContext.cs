using Microsoft.EntityFrameworkCore;

namespace WebhookReceiver.Data;

internal sealed class AppDbContext(DbContextOptions<AppDbContext> options) : DbContext(options)
{
    public DbSet<CallRecord> Calls => Set<CallRecord>();
    public DbSet<WebhookEvent> Events => Set<WebhookEvent>();
    public DbSet<QuarantinedWebhook> Quarantine => Set<QuarantinedWebhook>();
    public DbSet<CallAction> Actions => Set<CallAction>();

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
        });

        modelBuilder.Entity<WebhookEvent>(evt =>
        {
            evt.ToTable("webhook_events");
            evt.Property(e => e.Id).UseIdentityAlwaysColumn();
            evt.HasIndex(e => e.Identity).IsUnique();
            evt.HasIndex(e => new { e.CallId, e.CreatedAt });
            evt.Property(e => e.Body).HasColumnType("jsonb");
            evt.Property(e => e.ReceivedAt).HasDefaultValueSql("now()");
            // Retention purges by arrival time in small batches: without this each batch would scan the table.
            evt.HasIndex(e => e.ReceivedAt);
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
            a.HasIndex(e => new { e.EventId, e.Action }).IsUnique();
            // ticket.create runs once per call, whatever the number of failing events.
            a.HasIndex(e => e.CallId).IsUnique().HasFilter("action = 'ticket.create'").HasDatabaseName("ix_call_actions_one_ticket_per_call");
            // The dispatcher's work list stays small and indexed however large the table grows.
            a.HasIndex(e => e.Id).HasFilter("state = 'pending' AND dispatched_at IS NULL").HasDatabaseName("ix_call_actions_undispatched");
            a.HasIndex(e => new { e.State, e.DispatchedAt }).HasFilter("state = 'pending'").HasDatabaseName("ix_call_actions_pending");
            a.Property(e => e.CreatedAt).HasDefaultValueSql("now()");
            a.Property(e => e.UpdatedAt).HasDefaultValueSql("now()");
        });
    }
}
