using System.Globalization;
using System.Text.RegularExpressions;

namespace WebhookReceiver.IntegrationTests.Infrastructure;

/// <summary>A parsed Prometheus text exposition: samples by name, with their labels.</summary>
internal sealed partial class PrometheusText
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = [];

    public string Raw { get; }

    private PrometheusText(string raw)
    {
        Raw = raw;
        foreach (var line in raw.Split('\n'))
        {
            var m = SampleLine().Match(line);
            if (!m.Success)
            {
                continue;
            }
            var labels = LabelPair().Matches(m.Groups["labels"].Value)
                .ToDictionary(l => l.Groups["k"].Value, l => l.Groups["v"].Value);
            _samples.Add((m.Groups["name"].Value, labels, double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture)));
        }
    }

    public static PrometheusText Parse(string raw) => new(raw);

    public bool Has(string name) => _samples.Any(s => s.Name == name);

    /// <summary>Sum of the samples of <paramref name="name"/> whose labels include all of <paramref name="labels"/>; 0 when none.</summary>
    public double Sum(string name, params (string Key, string Value)[] labels) => _samples
        .Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value))
        .Sum(s => s.Value);

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>[-+0-9.eEInfNa]+)")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<k>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<v>(?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
