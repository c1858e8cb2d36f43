using Microsoft.Playwright;
using WebhookReceiver.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookReceiver.IntegrationTests.OperatorConsole;

/// <summary>
/// The console in a real headless browser (Debian's chromium driven by Playwright's bundled driver; nothing is
/// downloaded): what a person sees, and a screenshot under TestResults/console/.
/// </summary>
[Collection(ReceiverCollection.Name)]
public sealed class ConsoleBrowserTests(ReceiverFactory app, ITestOutputHelper output)
{
    private static readonly DateTimeOffset T0 = new(2026, 9, 14, 10, 30, 0, TimeSpan.Zero);

    [Fact]
    public async Task An_operator_opens_the_call_list_clicks_into_a_call_and_sees_its_story()
    {
        var customer = "cust_browser_" + Guid.NewGuid().ToString("N")[..8];
        var callId = MiniVoiceEvents.NewCallId();
        app.Crm.Script(callId, new StubReply(422));
        // The final event first, then the ringing one it followed: the second arrives out of order.
        foreach (var body in new[]
                 {
                     MiniVoiceEvents.Event(callId, "call.completed", "completed", T0.AddMinutes(3), variables: new { order = "B2" }),
                     MiniVoiceEvents.Event(callId, "call.ringing", "ringing", T0),
                 })
        {
            using var response = await app.PostSignedAsync(body.Replace("cust_123", customer, StringComparison.Ordinal));
            Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        }
        await Actions.SettledAsync(app.ConnectionString, callId);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium(), Headless = true });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        var baseUrl = BaseUrl();

        await page.GotoAsync($"{baseUrl}/console?customer_id={customer}");
        Assert.Equal("Calls", await page.Locator("h1").InnerTextAsync());
        var rows = page.Locator("#calls tbody tr");
        Assert.Equal(1, await rows.CountAsync());
        Assert.Contains("completed (final)", await rows.First.InnerTextAsync(), StringComparison.Ordinal);

        await page.GetByRole(AriaRole.Link, new() { Name = callId }).ClickAsync();
        // Auto-waiting assertions: they retry until the new page is there (or fail after Playwright's timeout).
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync($"Call {callId}");
        Assert.EndsWith($"/console/calls/{callId}", page.Url, StringComparison.Ordinal);
        Assert.Equal("completed", await page.Locator("#current-status").InnerTextAsync());
        Assert.Equal("completed", (await page.Locator("#final-status").InnerTextAsync()).Trim());

        var timeline = page.Locator("#timeline tbody tr");
        Assert.Equal(2, await timeline.CountAsync());
        // In event time: ringing first, and it is the one that arrived late.
        Assert.Contains("call.ringing", await timeline.Nth(0).InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("2026-09-14 10:30:00.000 UTC", await timeline.Nth(0).InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("arrived out of order", await timeline.Nth(0).InnerTextAsync(), StringComparison.Ordinal);
        Assert.True(await timeline.Nth(0).Locator(".mark").IsVisibleAsync());
        Assert.Contains("in order", await timeline.Nth(1).InnerTextAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("arrived out of order", await timeline.Nth(1).InnerTextAsync(), StringComparison.Ordinal);

        Assert.True(await page.GetByText("No recordings.").IsVisibleAsync());
        Assert.True(await page.GetByText("No transcripts.").IsVisibleAsync());
        Assert.Contains("B2", await page.Locator("#variables").InnerTextAsync(), StringComparison.Ordinal);

        var actions = page.Locator("#actions tbody tr");
        Assert.Equal(2, await actions.CountAsync()); // a CRM sync per final-leaving event; which one met the 422 depends on timing
        var failed = actions.Filter(new() { HasText = "failed" });
        Assert.Equal(1, await failed.CountAsync());
        var failedText = await failed.InnerTextAsync();
        Assert.Contains("crm.sync", failedText, StringComparison.Ordinal);
        Assert.Contains("HTTP 422", failedText, StringComparison.Ordinal);
        Assert.Equal(1, await actions.Filter(new() { HasText = "succeeded" }).CountAsync());
        var jobId = await Db.ScalarAsync<string>(app.ConnectionString,
            "SELECT job_id FROM call_actions WHERE call_id = $1 AND state = 'failed'", callId);
        Assert.Equal($"/hangfire/jobs/details/{jobId}", await failed.GetByRole(AriaRole.Link).GetAttributeAsync("href"));

        var screenshot = Path.Combine(ResultsDirectory(), "console", "call-page.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot should hold a rendered page");
        output.WriteLine($"Screenshot of the call page: {screenshot}");

        // From the call to every request MiniVoice made for it, then to the failures it is part of.
        await page.GetByRole(AriaRole.Link, new() { Name = "every request for this call" }).ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Webhook requests");
        var requests = page.Locator("#events tbody tr");
        Assert.Equal(2, await requests.CountAsync());
        Assert.Contains("accepted: 2", await page.Locator("#counts").InnerTextAsync(), StringComparison.Ordinal);
        await SaveAsync(page, "events-page.png");

        await page.GetByRole(AriaRole.Link, new() { Name = "Failures", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Failing actions");
        var group = page.Locator("#failures tbody tr").Filter(new() { HasText = callId });
        Assert.Contains("422", await group.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal($"/hangfire/jobs/details/{jobId}", await group.GetByRole(AriaRole.Link, new() { Name = $"job {jobId}" }).GetAttributeAsync("href"));
        await SaveAsync(page, "failures-page.png");

        // Back on the call page, the failed sync retried with its button: a notice, then (reloaded) it succeeded.
        await page.GotoAsync($"{baseUrl}/console/calls/{callId}");
        await page.Locator("#actions tbody tr").Filter(new() { HasText = "failed" })
            .GetByRole(AriaRole.Button, new() { Name = "Retry now" }).ClickAsync();
        await Assertions.Expect(page.Locator(".notice")).ToContainTextAsync("Due now, with a fresh retry budget");
        await Actions.SettledAsync(app.ConnectionString, callId);
        await page.ReloadAsync();
        Assert.Equal(2, await page.Locator("#actions tbody tr").Filter(new() { HasText = "succeeded" }).CountAsync());
        Assert.Equal(3, app.Crm.For(callId).Count);
        await SaveAsync(page, "call-page-after-retry.png");
    }

    private async Task SaveAsync(IPage page, string name)
    {
        var path = Path.Combine(ResultsDirectory(), "console", name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        output.WriteLine($"Screenshot: {path}");
    }

    private string BaseUrl()
    {
        using var client = app.CreateClient();
        return client.BaseAddress!.GetLeftPart(UriPartial.Authority);
    }

    /// <summary>Debian's chromium; a missing browser fails the test (never skips it) and says what to install.</summary>
    private static string Chromium()
    {
        var path = Environment.GetEnvironmentVariable("WEBHOOKRECEIVER_CHROMIUM") is { Length: > 0 } p ? p : "/usr/bin/chromium";
        if (!File.Exists(path))
        {
            Assert.Fail($"No browser at {path}. Install Debian's chromium: `apt-get update && apt-get install -y chromium` " +
                        "(scripts/test.sh and .ci/run do this when apt-get is available), or set WEBHOOKRECEIVER_CHROMIUM to a Chromium binary.");
        }
        return path;
    }

    /// <summary>The repository's TestResults/ (where scripts/test.sh collects results), else the test output folder.</summary>
    private static string ResultsDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "WebhookReceiver.sln")))
            {
                return Path.Combine(dir.FullName, "TestResults");
            }
        }
        return Path.Combine(AppContext.BaseDirectory, "TestResults");
    }
}
