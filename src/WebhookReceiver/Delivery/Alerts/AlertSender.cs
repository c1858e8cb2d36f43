using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Npgsql;

namespace WebhookReceiver.Delivery;

internal sealed class AlertOptions
{
    public const string SectionName = "Alerts";

    /// <summary>Where alerts are posted as <c>{"text": …}</c> (the shape chat webhooks accept); empty = no alerts.</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>At most one alert per destination and kind in this many minutes, across all processes.</summary>
    [Range(0, 10_080)]
    public int MinIntervalMinutes { get; set; } = 10;

    [Range(1, 60)]
    public int TimeoutSeconds { get; set; } = 5;
}

/// <summary>What an alert is about.</summary>
internal static class AlertKind
{
    public const string BreakerOpened = "breaker_opened";
    public const string BreakerClosed = "breaker_closed";
    public const string Paused = "paused";
    public const string Resumed = "resumed";
    public const string Exhausted = "exhausted";
    /// <summary>The stale-call sweep marked calls whose final status never arrived (StaleCalls/).</summary>
    public const string StaleCalls = "stale_calls";
}

/// <summary>
/// Posts short alerts to Alerts:WebhookUrl. The once-per-interval rule is a guarded upsert on delivery_alerts, so
/// several processes that see the same breaker open send one alert between them. Never throws: an alert that
/// cannot be sent is logged, and the work goes on.
/// </summary>
internal sealed class AlertSender(
    NpgsqlDataSource dataSource, IHttpClientFactory clients, IOptions<AlertOptions> options, ILogger<AlertSender> logger)
{
    public const string HttpClientName = "alerts";

    public async Task RaiseAsync(string destination, string kind, string text)
    {
        var o = options.Value;
        logger.LogWarning("Alert {Kind} for {Destination}: {Text}", kind, destination, text);
        if (!Uri.TryCreate(o.WebhookUrl, UriKind.Absolute, out var url))
        {
            return;
        }
        try
        {
            if (!await TakeTurnAsync(destination, kind, o.MinIntervalMinutes))
            {
                return;
            }
            using var response = await clients.CreateClient(HttpClientName).PostAsJsonAsync(url, new { text = $"WebhookReceiver: {text}" });
            if (!response.IsSuccessStatusCode)
            {
                logger.LogWarning("Alert {Kind} for {Destination} was refused: HTTP {Status}", kind, destination, (int)response.StatusCode);
                await GiveTurnBackAsync(destination, kind);
            }
        }
        catch (Exception ex)
        {
            logger.LogWarning("Alert {Kind} for {Destination} could not be sent: {Error}", kind, destination, ex.Message);
            await GiveTurnBackAsync(destination, kind);
        }
    }

    /// <summary>An alert that did not arrive must not silence the next one for a whole interval.</summary>
    private async Task GiveTurnBackAsync(string destination, string kind)
    {
        try
        {
            await using var command = dataSource.CreateCommand("DELETE FROM delivery_alerts WHERE destination = $1 AND kind = $2");
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = destination });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
            await command.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException ex)
        {
            logger.LogDebug("Alert turn not given back: {Error}", ex.Message);
        }
    }

    private async Task<bool> TakeTurnAsync(string destination, string kind, int minIntervalMinutes)
    {
        await using var command = dataSource.CreateCommand(
            "INSERT INTO delivery_alerts (destination, kind, last_sent_at) VALUES ($1, $2, now()) " +
            "ON CONFLICT (destination, kind) DO UPDATE SET last_sent_at = now() " +
            "WHERE delivery_alerts.last_sent_at <= now() - make_interval(mins => $3) RETURNING 1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = destination });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = minIntervalMinutes });
        return await command.ExecuteScalarAsync() is not null;
    }
}
