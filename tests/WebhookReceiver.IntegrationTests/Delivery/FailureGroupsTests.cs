using System.Net;
using System.Text.Json;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Delivery;

[Collection(ReceiverCollection.Name)]
public sealed class FailureGroupsTests(ReceiverFactory app)
{
    [Fact]
    public async Task Failing_actions_are_grouped_by_action_kind_and_status_with_counts_times_samples_and_links()
    {
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var teapots = Enumerable.Range(0, 3).Select(_ => MiniVoiceEvents.NewCallId()).ToList();
        var legal = MiniVoiceEvents.NewCallId();
        foreach (var callId in teapots)
        {
            app.Crm.Script(callId, new StubReply(418));
        }
        app.Crm.Script(legal, new StubReply(451));
        foreach (var callId in teapots.Append(legal))
        {
            using var response = await app.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", DateTimeOffset.UtcNow));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        foreach (var callId in teapots.Append(legal))
        {
            await Actions.SettledAsync(app.ConnectionString, callId);
        }

        var report = await app.GetJsonAsync($"/actions/failures?since={Uri.EscapeDataString(since.ToString("O"))}");
        var groups = report.GetProperty("groups").EnumerateArray().ToList();
        var teapot = Assert.Single(groups, g => Status(g) == 418);
        Assert.Equal("crm.sync", teapot.GetProperty("action").GetString());
        Assert.Equal("http", teapot.GetProperty("last_error_kind").GetString());
        Assert.Equal(3, teapot.GetProperty("count").GetInt64());
        Assert.Equal(3, teapot.GetProperty("failed").GetInt64());
        Assert.True(teapot.GetProperty("first_seen").GetDateTime() <= teapot.GetProperty("last_seen").GetDateTime());
        Assert.True(teapot.GetProperty("last_seen").GetDateTime() >= since.UtcDateTime);
        var samples = teapot.GetProperty("samples").EnumerateArray().ToList();
        Assert.Equal(teapots.Order(), samples.Select(s => s.GetProperty("call_id").GetString()!).Order());
        foreach (var sample in samples)
        {
            var callId = sample.GetProperty("call_id").GetString()!;
            var links = sample.GetProperty("links");
            Assert.Equal($"/calls/{callId}", links.GetProperty("call").GetString());
            Assert.Equal($"/console/calls/{callId}", links.GetProperty("console").GetString());
            var jobId = await Actions.JobIdAsync(app.ConnectionString, callId, "crm.sync");
            Assert.Equal($"/hangfire/jobs/details/{jobId}", links.GetProperty("job").GetString());
            Assert.Equal("failed", sample.GetProperty("state").GetString());
            Assert.Contains("418", sample.GetProperty("last_error").GetString(), StringComparison.Ordinal);
            // The links lead somewhere real.
            await app.GetJsonAsync(links.GetProperty("call").GetString()!);
            using var client = app.CreateClient();
            using var job = await client.GetAsync(new Uri(links.GetProperty("job").GetString()!, UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, job.StatusCode);
        }
        Assert.Equal(1, Assert.Single(groups, g => Status(g) == 451).GetProperty("count").GetInt64());
        // Bigger groups first.
        Assert.True(groups.IndexOf(teapot) < groups.FindIndex(g => Status(g) == 451));

        // A window that ends before the failures holds none of them.
        var before = await app.GetJsonAsync($"/actions/failures?until={Uri.EscapeDataString(since.ToString("O"))}");
        Assert.DoesNotContain(before.GetProperty("groups").EnumerateArray(), g => Status(g) is 418 or 451);
    }

    [Fact]
    public async Task A_bad_time_gets_a_400_naming_it()
    {
        using var client = app.CreateClient();
        using var response = await client.GetAsync(new Uri("/actions/failures?since=last-night", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty("since", out _));
    }

    private static int? Status(JsonElement group) =>
        group.GetProperty("last_http_status").ValueKind == JsonValueKind.Number ? group.GetProperty("last_http_status").GetInt32() : null;
}
