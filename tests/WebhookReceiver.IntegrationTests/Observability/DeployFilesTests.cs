using System.Text.Json;
using System.Text.RegularExpressions;
using WebhookReceiver.IntegrationTests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace WebhookReceiver.IntegrationTests.Observability;

/// <summary>
/// deploy/'s Grafana dashboard and Prometheus alert rules (README "Observability") read from the repository: they parse,
/// every rule is complete, and every metric they name is on /metrics of a running instance after real traffic
/// (a webhook sent on, one refused, one out of order, one action that runs out of retries).
/// </summary>
public sealed partial class DeployFilesTests
{
    private static readonly string Dashboard = Path.Combine(RepositoryRoot(), "deploy", "grafana", "webhookreceiver-dashboard.json");
    private static readonly string Rules = Path.Combine(RepositoryRoot(), "deploy", "prometheus", "webhookreceiver-alerts.yml");

    [Fact]
    public void The_alert_rules_parse_and_every_rule_has_a_name_an_expression_a_severity_and_a_summary()
    {
        var rules = AlertRules();

        Assert.Equal(
            ["WebhookReceiverActionsExhausted", "WebhookReceiverBacklogOld", "WebhookReceiverDestinationOpen", "WebhookReceiverNotReady",
             "WebhookReceiverSlowAck", "WebhookReceiverUnavailable503"],
            rules.Select(r => Scalar(r, "alert")).Order(StringComparer.Ordinal));
        foreach (var rule in rules)
        {
            var name = Scalar(rule, "alert");
            Assert.False(string.IsNullOrWhiteSpace(Scalar(rule, "expr")), $"{name}: expr");
            var pending = Scalar(rule, "for");
            Assert.True(pending is null || DurationFormat().IsMatch(pending), $"{name}: for is a Prometheus duration");
            Assert.Contains(Scalar((YamlMappingNode)rule[new YamlScalarNode("labels")], "severity"), new[] { "warning", "critical" });
            Assert.False(string.IsNullOrWhiteSpace(Scalar((YamlMappingNode)rule[new YamlScalarNode("annotations")], "summary")));
            Assert.True(Balanced(Scalar(rule, "expr")!), $"{name}: brackets balanced");
        }
    }

    [Fact]
    public void The_dashboard_parses_and_every_panel_has_a_query_and_a_description()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Dashboard));
        var panels = document.RootElement.GetProperty("panels").EnumerateArray()
            .Where(p => p.GetProperty("type").GetString() != "row").ToList();

        Assert.Equal("webhookreceiver", document.RootElement.GetProperty("uid").GetString());
        Assert.True(panels.Count >= 15, $"{panels.Count} panels");
        Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
        foreach (var panel in panels)
        {
            var title = panel.GetProperty("title").GetString();
            Assert.False(string.IsNullOrWhiteSpace(panel.GetProperty("description").GetString()), $"{title}: description");
            Assert.NotEmpty(panel.GetProperty("targets").EnumerateArray());
            Assert.All(panel.GetProperty("targets").EnumerateArray(),
                t => Assert.True(Balanced(t.GetProperty("expr").GetString()!), title));
        }
    }

    [Fact]
    public async Task Every_metric_the_dashboard_and_the_rules_name_is_exported_by_a_running_instance()
    {
        var used = DashboardExpressions().Concat(AlertRules().Select(r => Scalar(r, "expr")!))
            .SelectMany(MetricNames).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("webhookreceiver_jobs_exhausted_total", used);
        Assert.Contains("dotnet_gc_collections_total", used);
        Assert.Contains("db_client_connection_count", used);

        await using var host = await Hosts.StartAsync(null, new Dictionary<string, string?>
        {
            // One retry: the refused call's action fails for good at its second attempt.
            ["Jobs:RetryDelaysSeconds:1"] = null,
            ["Jobs:RetryDelaysSeconds:2"] = null,
            ["Jobs:RetryDelaysSeconds:3"] = null,
        });
        var (sent, refused) = (MiniVoiceEvents.NewCallId(), MiniVoiceEvents.NewCallId());
        host.Crm.Script(refused, Enumerable.Repeat(new StubReply(500), 5).ToArray());
        foreach (var callId in new[] { sent, refused })
        {
            (await host.PostSignedAsync(MiniVoiceEvents.Event(callId, "call.completed", "completed", DateTimeOffset.UtcNow))).Dispose();
        }
        // An authentication failure, and an event older than its call's latest (out of order).
        (await host.PostSignedAsync(MiniVoiceEvents.Event(sent, "call.ringing", "ringing", DateTimeOffset.UtcNow.AddMinutes(-1)),
            secret: StandardWebhookSigner.NewSecret())).Dispose();
        var earlier = MiniVoiceEvents.Event(sent, "call.ringing", "ringing", DateTimeOffset.UtcNow.AddMinutes(-1));
        (await host.PostSignedAsync(earlier)).Dispose();
        await Eventually.WaitAsync(async () => await Actions.CountAsync(host.ConnectionString, refused, "crm.sync", "failed") == 1,
            TimeSpan.FromSeconds(30), "the refused call's CRM sync to run out of retries");

        PrometheusText? last = null;
        List<string> Missing() => used.Where(name => last?.Has(name) != true).Order(StringComparer.Ordinal).ToList();
        // The backlog gauges come from a background read of PostgreSQL (at most every 5 s), readiness from a periodic check.
        await Eventually.WaitAsync(async () =>
            {
                last = await ScrapeAsync(host);
                return Missing().Count == 0;
            }, TimeSpan.FromSeconds(30), "every metric of deploy/ on /metrics",
            () => Task.FromResult("missing: " + string.Join(", ", Missing())));
        Assert.Equal(1, last!.Sum("webhookreceiver_jobs_exhausted_total", ("action", "crm.sync")));
        Assert.Equal(1, last.Sum("webhookreceiver_health_ready"));
        Assert.True(last.Sum("db_client_connection_max", ("db_client_connection_pool_name", "webhookreceiver")) > 0);
    }

    /// <summary>The metric names of a PromQL expression: identifiers left once strings, label matchers, ranges and
    /// by/without lists are removed, that are not followed by "(" (functions) and are not operators.</summary>
    internal static IEnumerable<string> MetricNames(string expr)
    {
        var bare = Grouping().Replace(Ranges().Replace(Matchers().Replace(Strings().Replace(expr, ""), ""), ""), "");
        return Identifier().Matches(bare).Where(m => !m.Groups["call"].Success && !Keywords.Contains(m.Groups["name"].Value))
            .Select(m => m.Groups["name"].Value);
    }

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "and", "or", "unless", "bool", "on", "ignoring", "group_left", "group_right", "offset", "by", "without",
    };

    private static async Task<PrometheusText> ScrapeAsync(ReceiverFactory host)
    {
        using var client = host.CreateClient();
        var text = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        return PrometheusText.Parse(text);
    }

    private static List<string> DashboardExpressions()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Dashboard));
        return document.RootElement.GetProperty("panels").EnumerateArray()
            .Where(p => p.TryGetProperty("targets", out _))
            .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("expr").GetString()!))
            .ToList();
    }

    private static List<YamlMappingNode> AlertRules()
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(Rules))
        {
            yaml.Load(reader);
        }
        var groups = (YamlSequenceNode)((YamlMappingNode)yaml.Documents.Single().RootNode)[new YamlScalarNode("groups")];
        return groups.Children.Cast<YamlMappingNode>()
            .SelectMany(g => ((YamlSequenceNode)g[new YamlScalarNode("rules")]).Children.Cast<YamlMappingNode>()).ToList();
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value : null;

    private static bool Balanced(string expr)
    {
        var depth = 0;
        foreach (var c in Strings().Replace(expr, ""))
        {
            depth += c is '(' or '{' or '[' ? 1 : c is ')' or '}' or ']' ? -1 : 0;
            if (depth < 0)
            {
                return false;
            }
        }
        return depth == 0;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "WebhookReceiver.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no WebhookReceiver.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex("\"[^\"]*\"")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Matchers();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    [GeneratedRegex(@"\b(by|without|on|ignoring)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"(?<![\w.])(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<call>\s*\()?")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"^\d+[smhdwy]$")]
    private static partial Regex DurationFormat();
}
