using System.Text.Json;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.AspNetCore.WebUtilities;
using WebhookReceiver.Calls;
using WebhookReceiver.OperatorConsole.Components;
using WebhookReceiver.Data;
using WebhookReceiver.Events;
using WebhookReceiver.Delivery;
using WebhookReceiver.Operators;

namespace WebhookReceiver.OperatorConsole;

/// <summary>
/// /console: server-rendered pages over the same queries as the JSON API. Razor components rendered to a string
/// by <see cref="HtmlRenderer"/>, so every value from a payload is HTML-encoded by construction; no scripts, no
/// external assets. Not AddRazorComponents + RazorComponentResult: that registers IAntiforgery, which silently
/// turns on Hangfire's dashboard token check (and ties it to per-process Data Protection keys).
/// </summary>
internal static class ConsoleEndpoints
{
    public static RouteGroupBuilder MapConsole(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(ConsolePaths.Root).RequireOperator();
        group.MapGet("/", CallList);
        group.MapGet("/calls", CallList);
        group.MapGet("/calls/{callId}", CallDetails);
        group.MapGet("/calls/{callId}/fixture.zip", FixtureZip);
        group.MapGet("/failures", Failures);
        group.MapGet("/events", Events);
        group.MapGet("/destinations", Destinations);
        return group;
    }

    private static async Task<IResult> CallList(HttpRequest request, AppDbContext db, CancellationToken cancellationToken)
    {
        var filters = Filters(request.Query, ("customer_id", "Customer", "cust_123"), ("status", "Status", "completed"),
            ("stale", "Stale (true/false)", "true"),
            ("since", "Since (RFC 3339)", "2026-05-29T00:00:00Z"), ("until", "Until", "2026-05-30T00:00:00Z"));
        if (!CallListQuery.TryParse(request.Query, out var q, out var errors))
        {
            return Page<CallListPage>(new CallListModel(filters, [], null, errors), StatusCodes.Status400BadRequest);
        }
        var page = await CallsApi.ListCallsAsync(db, q, cancellationToken);
        var rows = page.Items
            .Select(c => new CallRow(c.Id, c.CustomerId, c.Direction, c.From, c.To, c.Status, c.IsFinal, c.FirstEventAt, c.LastEventAt)
            {
                StaleSince = c.StaleSince,
            })
            .ToList();
        return Page<CallListPage>(new CallListModel(filters, rows, NextPage(ConsolePaths.Root, filters, page.NextCursor), errors));
    }

    private static async Task<IResult> CallDetails(
        string callId, HttpRequest request, AppDbContext db, Serilog.IDiagnosticContext diagnostics, CancellationToken cancellationToken)
    {
        diagnostics.Set("CallId", callId);
        var call = await CallsApi.LoadCallAsync(db, callId, cancellationToken);
        if (call is null)
        {
            return Page<CallListPage>(new CallListModel(Filters(QueryCollection.Empty), [], null,
                new Dictionary<string, string[]> { ["call"] = [$"No call with ID '{callId}' has been seen."] }),
                StatusCodes.Status404NotFound);
        }
        var variables = call.Variables.ValueKind == JsonValueKind.Object
            ? call.Variables.EnumerateObject().Select(v => new KeyValuePair<string, string?>(v.Name,
                    v.Value.ValueKind == JsonValueKind.Null ? null : ConsoleText.Json(v.Value)))
                .OrderBy(v => v.Key, StringComparer.Ordinal).ToList()
            : [];
        var model = new CallPageModel(call.Id, call.CustomerId, call.ApplicationId, call.Direction, call.From, call.To, call.Status,
            call.IsFinal, call.FirstEventAt, call.LastEventAt, call.IsFinal ? call.Status : null, variables,
            Items(call.Recordings), Items(call.Transcripts), Items(call.AiResults), call.Billing,
            call.Events.Select(e => new TimelineRow(e.Id, e.Event, e.Status, e.CreatedAt, e.ReceivedAt, e.OutOfOrder, e.WebhookId, e.Data))
                .ToList(),
            call.EventsTotal,
            call.Actions.Select(a => new ActionRow(a.Id, a.Action, a.State, a.Attempts, a.LastError, a.LastErrorKind, a.LastHttpStatus,
                a.JobId, a.UpdatedAt, a.CompletedAt)).ToList());
        return Page<CallDetailsPage>(model with { Notice = ConsoleNotice.From(request.Query), StaleSince = call.StaleSince });
    }

    /// <summary>
    /// The call's events and expected record as a zip: the same files as `fixtures export` (README "Fixtures from real traffic").
    /// </summary>
    private static async Task<IResult> FixtureZip(string callId, AppDbContext db, Npgsql.NpgsqlDataSource dataSource,
        Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken cancellationToken)
    {
        var files = await new Fixtures.FixtureExport(dataSource, db, json).BuildAsync(callId, cancellationToken);
        return files is null
            ? Hosting.Problems.Problem(StatusCodes.Status404NotFound, "Call not found", $"No call with ID '{callId}' has been seen.")
            : TypedResults.File(Fixtures.FixtureExport.Zip(files), "application/zip",
                Fixtures.FixtureExport.SafeName(callId) + "-fixture.zip");
    }

    private static async Task<IResult> Failures(HttpRequest request, FailureGroups failures, CancellationToken cancellationToken)
    {
        var filters = Filters(request.Query,
            ("since", "Since (RFC 3339)", "2026-05-29T00:00:00Z"), ("until", "Until", "2026-05-30T00:00:00Z"));
        var errors = new Dictionary<string, string[]>();
        var since = CallListQuery.Time(request.Query, "since", errors);
        var until = CallListQuery.Time(request.Query, "until", errors);
        if (errors.Count > 0)
        {
            return Page<FailuresPage>(new FailuresModel(filters, [], errors), StatusCodes.Status400BadRequest);
        }
        var report = await failures.ReadAsync(since, until, cancellationToken);
        var rows = report.Groups.Select(g => new FailureRow(g.Action, g.LastErrorKind, g.LastHttpStatus, g.Count, g.Failed, g.Retrying,
            g.FirstSeen, g.LastSeen,
            g.Samples.Select(s => new FailureSampleRow(s.ActionId, s.CallId, s.State, s.Attempts, s.LastError, s.JobId)).ToList()))
            .ToList();
        return Page<FailuresPage>(new FailuresModel(filters, rows, errors) { Notice = ConsoleNotice.From(request.Query) });
    }

    private static async Task<IResult> Destinations(
        HttpRequest request, DestinationStatusReader reader, CancellationToken cancellationToken)
    {
        var overview = await reader.ReadAsync(cancellationToken);
        var rows = overview.Destinations.Select(d => new DestinationRow(d.Name, d.Action, d.Configured, d.State, d.Breaker, d.Paused,
            d.PausedBy, d.PausedAt, d.OpenUntil, d.HoldUntil, d.ConsecutiveFailures, d.InFlight, d.MaxConcurrency, d.RatePerSecond,
            d.Pending, d.Due, d.OldestPendingSeconds, d.LastError, d.LastErrorAt)).ToList();
        return Page<DestinationsPage>(new DestinationsModel(rows) { Notice = ConsoleNotice.From(request.Query) });
    }

    private static async Task<IResult> Events(
        HttpRequest request, EventSearch search, TimeProvider clock, CancellationToken cancellationToken)
    {
        var filters = Filters(request.Query, ("call_id", "Call ID", "call_123"), ("event", "Event", "call.completed"),
            ("json", "Body contains (JSON)", "{\"variables\":{\"order\":\"B2\"}}"),
            ("since", "Since (RFC 3339)", "2026-05-29T00:00:00Z"), ("until", "Until", "2026-05-30T00:00:00Z"));
        var result = request.Query["result"].ToString() is { Length: > 0 } r ? r : null;
        if (!EventSearchQuery.TryParse(request.Query, out var q, out var errors))
        {
            return Page<EventsPage>(new EventsModel(filters, result, ReceiptResult.All, [], null, null, errors),
                StatusCodes.Status400BadRequest);
        }
        EventHitPage page;
        IReadOnlyDictionary<string, long>? counts;
        // Counted in the same window as GET /events/counts: without since, the last day, not the whole table.
        var window = q.CountWindow(clock.GetUtcNow().UtcDateTime);
        try
        {
            page = await search.SearchAsync(q, cancellationToken);
            counts = q.After is null ? await search.CountAsync(window, cancellationToken) : null;
        }
        catch (EventSearchRefusedException ex)
        {
            var refused = new EventsModel(filters, result, ReceiptResult.All, [], null, null, ex.Errors);
            return Page<EventsPage>(refused, StatusCodes.Status400BadRequest);
        }
        var rows = page.Items.Select(e => new EventRow(e.Result, e.ReceivedAt, e.CallId, e.Event, e.WebhookId, e.Reason, e.BodyBytes,
            e.EventId, e.ReceiptId, e.QuarantineId, e.RemoteAddress, e.CreatedAt, e.Status, e.OutOfOrder,
            e.Body is { } body ? JsonSerializer.Serialize(body, Indented) : null, HeaderList(e.RequestHeaders))).ToList();
        var paging = result is null ? filters : [.. filters, new ConsoleFilter("result", "Result", result)];
        return Page<EventsPage>(new EventsModel(filters, result, ReceiptResult.All, rows, counts,
            NextPage("/console/events", paging, page.NextCursor), errors)
        {
            CountsSince = window.Since,
            Notice = ConsoleNotice.From(request.Query),
        });
    }

    private static List<KeyValuePair<string, string>>? HeaderList(JsonElement? headers) =>
        headers is { ValueKind: JsonValueKind.Object } h
            ? h.EnumerateObject().Select(p => new KeyValuePair<string, string>(p.Name, p.Value.ToString())).ToList()
            : null;

    // Relaxed escaping: the body is shown as MiniVoice sent it (a "<" stays "<", not \u003C); Razor encodes it for HTML.
    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static ComponentPage Page<TComponent>(object model, int status = StatusCodes.Status200OK) where TComponent : IComponent =>
        new ComponentPage(typeof(TComponent), model, status);

    /// <summary>Renders a page component (parameter "Model") to HTML when the result executes.</summary>
    private sealed class ComponentPage(Type component, object model, int status) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var services = httpContext.RequestServices;
            await using var renderer = new HtmlRenderer(services, services.GetRequiredService<ILoggerFactory>());
            var html = await renderer.Dispatcher.InvokeAsync(async () =>
            {
                var output = await renderer.RenderComponentAsync(component,
                    ParameterView.FromDictionary(new Dictionary<string, object?> { ["Model"] = model }));
                return output.ToHtmlString();
            });
            httpContext.Response.StatusCode = status;
            httpContext.Response.ContentType = "text/html; charset=utf-8";
            await httpContext.Response.WriteAsync(html, httpContext.RequestAborted);
        }
    }

    private static List<ConsoleFilter> Filters(IQueryCollection query, params (string Name, string Label, string Placeholder)[] names) =>
        names.Select(n => new ConsoleFilter(n.Name, n.Label, query[n.Name].ToString() is { Length: > 0 } v ? v : null, n.Placeholder))
            .ToList();

    private static string? NextPage(string path, IEnumerable<ConsoleFilter> filters, string? cursor) => cursor is null
        ? null
        : QueryHelpers.AddQueryString(path, filters.Where(f => f.Value is not null)
            .Select(f => new KeyValuePair<string, string?>(f.Name, f.Value))
            .Append(new KeyValuePair<string, string?>("cursor", cursor)));

    private static List<JsonElement> Items(JsonElement array) =>
        array.ValueKind == JsonValueKind.Array ? array.EnumerateArray().ToList() : [];
}
