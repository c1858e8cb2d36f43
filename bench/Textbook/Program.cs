using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.EntityFrameworkCore;
using Textbook;

// The textbook receiver (bench/run.sh, README "Performance"): what a tutorial builds, written plainly so the
// benchmark compares the service with an honest reference, not a straw man.
var builder = WebApplication.CreateBuilder(args);
var connectionString = builder.Configuration.GetConnectionString("Postgres");
if (string.IsNullOrEmpty(connectionString))
{
    throw new InvalidOperationException("ConnectionStrings:Postgres is required.");
}

builder.Services.AddDbContext<TextbookDb>(options => options.UseNpgsql(connectionString).UseSnakeCaseNamingConvention());
builder.Services.AddHangfire(configuration => configuration
    .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
    .UseSimpleAssemblyNameTypeSerializer()
    .UseRecommendedSerializerSettings()
    .UsePostgreSqlStorage(options => options.UseNpgsqlConnection(connectionString)));
// Role=api serves HTTP only, so its ingest run compares like with like against the service's Role=api run;
// otherwise the Hangfire server runs in this process with its default options.
if (!string.Equals(builder.Configuration["Role"], "api", StringComparison.OrdinalIgnoreCase))
{
    builder.Services.AddHangfireServer();
}
builder.Services.AddHttpClient<CallJobs>();

var app = builder.Build();
using (var scope = app.Services.CreateScope())
{
    scope.ServiceProvider.GetRequiredService<TextbookDb>().Database.EnsureCreated();
}

// The dashboard (local requests only by default) also initialises JobStorage.Current for BackgroundJob.Enqueue.
app.UseHangfireDashboard();
app.MapGet("/health", () => "ok");
app.MapPost("/webhooks/minivoice", WebhookEndpoint.ReceiveAsync);
app.Run();
