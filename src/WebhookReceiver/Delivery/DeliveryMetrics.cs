using System.Diagnostics.Metrics;

namespace WebhookReceiver.Delivery;

/// <summary>
/// Counters of the work's attempts, and gauges of what waits in PostgreSQL (overall and per destination) read from
/// <see cref="DestinationStatusReader"/>: a scrape reads the last snapshot and, when it is older than
/// <see cref="MaxAge"/>, starts one refresh in the background, so however often Prometheus scrapes the database sees
/// at most one small query per interval, and a scrape never waits on it.
/// </summary>
internal sealed class DeliveryMetrics
{
    public const string MeterName = "WebhookReceiver.Jobs";
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);

    private readonly Counter<long> _attempts;
    private readonly Counter<long> _exhausted;
    private readonly Counter<long> _rounds;
    private readonly DestinationStatusReader _reader;
    private readonly TimeProvider _clock;
    private readonly ILogger<DeliveryMetrics> _logger;
    private DeliveryOverview? _last;
    private int _refreshing;
    private long _lastAttempt;

    public DeliveryMetrics(IMeterFactory meterFactory, DestinationStatusReader reader, TimeProvider clock, ILogger<DeliveryMetrics> logger)
    {
        (_reader, _clock, _logger) = (reader, clock, logger);
        var meter = meterFactory.Create(MeterName);
        _attempts = meter.CreateCounter<long>("webhookreceiver.jobs.attempts",
            description: "Attempts of background actions by action and outcome (succeeded, transient_failure, permanent_failure)");
        _exhausted = meter.CreateCounter<long>("webhookreceiver.jobs.exhausted",
            description: "Background actions that failed for good after using up their retries (an operator's retry is due)");
        _rounds = meter.CreateCounter<long>("webhookreceiver.dispatch.rounds",
            description: "Dispatcher rounds (claims of due work) by whether the dispatcher was giving way to a burst of webhooks");
        meter.CreateObservableGauge("webhookreceiver.outbox.pending", () => Overall(o => o.Pending),
            description: "Background actions not yet done (waiting for their first attempt or a retry, or being attempted)");
        meter.CreateObservableGauge("webhookreceiver.outbox.due", () => Overall(o => o.Due),
            description: "Pending actions due now that no batch owns yet");
        meter.CreateObservableGauge("webhookreceiver.outbox.oldest_pending_age", () => Overall(o => o.OldestPendingSeconds), unit: "s",
            description: "Age of the oldest background action not yet done");
        meter.CreateObservableGauge("webhookreceiver.jobs.queue_depth", () => Overall(o => o.QueueDepth),
            description: "Hangfire jobs enqueued and not yet fetched by a worker");
        meter.CreateObservableGauge("webhookreceiver.destination.pending", () => PerDestination(d => d.Pending),
            description: "Pending actions per destination");
        meter.CreateObservableGauge("webhookreceiver.destination.oldest_pending_age", () => PerDestination(d => d.OldestPendingSeconds),
            unit: "s", description: "Age of the oldest pending action per destination");
        meter.CreateObservableGauge("webhookreceiver.destination.in_flight", () => PerDestination(d => d.InFlight),
            description: "Request lanes held by running batches per destination (at most its MaxConcurrency)");
        meter.CreateObservableGauge("webhookreceiver.destination.open", () => PerDestination(d => d.Breaker == BreakerState.Closed ? 0 : 1),
            description: "1 while the destination's circuit breaker is open or half-open");
        meter.CreateObservableGauge("webhookreceiver.destination.paused", () => PerDestination(d => d.Paused ? 1 : 0),
            description: "1 while an operator has paused the destination");
    }

    public void RecordAttempt(string action, ActionOutcome outcome) => _attempts.Add(1,
        new KeyValuePair<string, object?>("action", ActionNames.All.Contains(action) ? action : "other"),
        new KeyValuePair<string, object?>("outcome",
            outcome.Succeeded ? "succeeded" : outcome.Permanent ? "permanent_failure" : "transient_failure"));

    public void RecordDispatchRound(bool givingWay) =>
        _rounds.Add(1, new KeyValuePair<string, object?>("giving_way", givingWay ? "true" : "false"));

    public void RecordExhausted(string action) =>
        _exhausted.Add(1, new KeyValuePair<string, object?>("action", ActionNames.All.Contains(action) ? action : "other"));

    private IEnumerable<Measurement<T>> Overall<T>(Func<DeliveryOverview, T> value) where T : struct =>
        Snapshot() is { } s ? [new Measurement<T>(value(s))] : [];

    private List<Measurement<T>> PerDestination<T>(Func<DestinationStatus, T> value) where T : struct =>
        Snapshot() is { } s
            ? s.Destinations.Select(d => new Measurement<T>(value(d), new KeyValuePair<string, object?>("destination", d.Name))).ToList()
            : [];

    private DeliveryOverview? Snapshot()
    {
        var snapshot = Volatile.Read(ref _last);
        var now = _clock.GetTimestamp();
        if ((snapshot is null || _clock.GetElapsedTime(snapshot.TakenAt, now) > MaxAge)
            && (Interlocked.Read(ref _lastAttempt) is var last && (last == 0 || _clock.GetElapsedTime(last, now) > MaxAge))
            && Interlocked.CompareExchange(ref _refreshing, 1, 0) == 0)
        {
            Interlocked.Exchange(ref _lastAttempt, now);
            _ = Task.Run(RefreshAsync);
        }
        // Nothing rather than a stale zero until the first read succeeded.
        return snapshot;
    }

    private async Task RefreshAsync()
    {
        try
        {
            var overview = await _reader.ReadAsync(CancellationToken.None);
            Volatile.Write(ref _last, overview with { TakenAt = _clock.GetTimestamp() });
        }
        catch (Exception ex)
        {
            // The database's own health is /health/ready's job; the gauges keep their last values.
            _logger.LogDebug("Delivery gauges not refreshed: {Error}", ex.Message);
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
    }
}
