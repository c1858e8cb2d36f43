using Microsoft.EntityFrameworkCore;

namespace Textbook;

public sealed class TextbookDb(DbContextOptions<TextbookDb> options) : DbContext(options)
{
    public DbSet<Call> Calls => Set<Call>();

    public DbSet<WebhookEvent> Events => Set<WebhookEvent>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Call>(call =>
        {
            call.Property(c => c.Variables).HasColumnType("jsonb");
            call.HasMany(c => c.Events).WithOne(e => e.Call).HasForeignKey(e => e.CallId);
        });
        modelBuilder.Entity<WebhookEvent>(evt =>
        {
            evt.HasIndex(e => e.Identity).IsUnique();
            evt.Property(e => e.Body).HasColumnType("jsonb");
        });
    }
}

public sealed class Call
{
    public string Id { get; set; } = "";
    public string? CustomerId { get; set; }
    public string? ApplicationId { get; set; }
    public string? Direction { get; set; }
    public string? From { get; set; }
    public string? To { get; set; }
    public string? Status { get; set; }
    public bool IsFinal { get; set; }
    public DateTime? StatusAt { get; set; }
    public DateTime FirstEventAt { get; set; }
    public DateTime LastEventAt { get; set; }
    public string Variables { get; set; } = "{}";
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public List<WebhookEvent> Events { get; } = [];
}

public sealed class WebhookEvent
{
    public long Id { get; set; }
    public string Identity { get; set; } = "";
    public string? WebhookId { get; set; }
    public string CallId { get; set; } = "";
    public Call? Call { get; set; }
    public string EventType { get; set; } = "";
    public string? Status { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ReceivedAt { get; set; }
    public byte[] RawBody { get; set; } = [];
    public string Body { get; set; } = "{}";
}
