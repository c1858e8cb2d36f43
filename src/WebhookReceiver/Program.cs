using WebhookReceiver.Calls;
using WebhookReceiver.Data;
using WebhookReceiver.Hosting;
using WebhookReceiver.Operators;
using WebhookReceiver.Webhooks;

var builder = WebApplication.CreateBuilder(args);
builder.AddRootAppSettings();
builder.AddLogging();
builder.AddProblemResponses();
builder.AddDatabase();
builder.AddHealth();
builder.AddOperatorAccess();
builder.AddWebhooks();

var app = builder.Build();

if (args is ["migrate", ..])
{
    // `dotnet WebhookReceiver.dll migrate`: apply the schema and exit (for a one-shot deploy step).
    await Database.MigrateAsync(app.Services);
    return;
}

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseRequestLogging();

app.MapHealth();
app.MapWebhooks();
app.MapCalls();

app.LogStartup();
await app.RunAsync();

/// <summary>Entry point, public for WebApplicationFactory.</summary>
public partial class Program;
