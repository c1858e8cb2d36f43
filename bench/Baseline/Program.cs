using System.Text.Json;

// The ceiling for the service on this machine: read the body, parse it as JSON, answer 202.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
app.MapPost("/webhooks/minivoice", async (HttpRequest request) =>
{
    using var document = await JsonDocument.ParseAsync(request.Body);
    var callId = document.RootElement.GetProperty("call").GetProperty("id").GetString();
    return Results.Json(new { status = "accepted", call_id = callId }, statusCode: 202);
});
// Also the CRM / ticket stub for the job-pipeline run: answers 200 after 5 ms, like a quick remote API.
app.MapPost("/calls", async () => { await Task.Delay(5); return Results.Ok(); });
app.MapPost("/tickets", async () => { await Task.Delay(5); return Results.Ok(); });
app.Run();
