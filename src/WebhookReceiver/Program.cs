using WebhookReceiver.ApiDocs;
using WebhookReceiver.Calls;
using WebhookReceiver.OperatorConsole;
using WebhookReceiver.Data;
using WebhookReceiver.Delivery;
using WebhookReceiver.Events;
using WebhookReceiver.Fixtures;
using WebhookReceiver.Hosting;
using WebhookReceiver.Jobs;
using WebhookReceiver.Observability;
using WebhookReceiver.Operators;
using WebhookReceiver.Recovery;
using WebhookReceiver.Retention;
using WebhookReceiver.StaleCalls;
using WebhookReceiver.Tooling;
using WebhookReceiver.Webhooks;

if (args is ["healthcheck", ..])
{
    return await HealthProbe.RunAsync();
}
if (FixtureTool.Handles(args) && !FixtureTool.NeedsHost(args))
{
    // `fixtures replay`, help and bad usage: no host, no database (export needs the host: after Build below).
    return await FixtureTool.RunAsync(args, Console.Out, Console.Error);
}
if (SigningTool.Handles(args))
{
    return await SigningTool.RunAsync(args, Console.Out, Console.Error);
}
if (SmokeTool.Handles(args))
{
    return await SmokeTool.RunAsync(args, Console.Out, Console.Error);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddRootAppSettings();
builder.AddLogging();
builder.AddProblemResponses();
builder.AddDatabase();
builder.AddHealth();
builder.AddOperatorAccess();
builder.AddWebhooks();
builder.AddJobs();
builder.AddDelivery();
builder.AddCallCreation();
builder.AddRecovery();
builder.AddEventSearch();
builder.AddMetricsEndpoint();
builder.AddTracing();
builder.AddApiDocs();
builder.AddRetention();
builder.AddStaleCalls();

var app = builder.Build();

if (args is ["migrate", ..])
{
    // `dotnet WebhookReceiver.dll migrate`: apply the schema (ours and Hangfire's) and exit.
    try
    {
        await Database.MigrateAsync(app.Services);
    }
    catch (DatabaseNotUtf8Exception ex)
    {
        await Console.Error.WriteLineAsync("migrate: " + ex.Message);
        return 1;
    }
    return 0;
}
if (FixtureTool.Handles(args))
{
    // `fixtures export`: reads the configured database through the built host, which is never started.
    return await FixtureTool.ExportAsync(args, app.Services, Console.Out, Console.Error);
}

app.UseTracing();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseRequestLogging();

app.MapHealth();
app.MapMetricsEndpoint();
if (builder.Configuration.Role().ServesApi())
{
    app.MapWebhooks();
    app.MapCalls();
    app.MapRecovery();
    app.MapEventSearch();
    app.MapDelivery();
    app.MapConsole();
    app.MapConsoleActions();
    app.MapJobsDashboard();
    app.MapApiDocs();
}

app.LogStartup();
try
{
    await app.RunAsync();
}
catch (DatabaseNotUtf8Exception ex)
{
    // Also logged; said plainly here, because a process that will not start is read from its last lines.
    await Console.Error.WriteLineAsync("WebhookReceiver did not start: " + ex.Message);
    return 1;
}
return 0;

/// <summary>Entry point, public for WebApplicationFactory.</summary>
public partial class Program;
