using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace WebhookReceiver.IntegrationTests.Infrastructure;

/// <summary>Every log event the app writes, rendered as the JSON the console would get.</summary>
internal sealed class CapturedLogs : ILogEventSink
{
    private readonly ConcurrentQueue<LogEvent> _events = new();
    public void Emit(LogEvent logEvent) => _events.Enqueue(logEvent);

    public IReadOnlyList<LogEvent> Events => _events.ToArray();

    /// <summary>The last few Error events with their exceptions, for assertion messages.</summary>
    public string RecentErrors() => string.Join(" | ", _events.Where(e => e.Level >= LogEventLevel.Error).TakeLast(3)
        .Select(e => e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture) + " " + e.Exception));

    public string AsJsonLines()
    {
        var formatter = new RenderedCompactJsonFormatter();
        using var writer = new StringWriter();
        foreach (var e in _events)
        {
            formatter.Format(e, writer);
        }
        return writer.ToString();
    }
}
