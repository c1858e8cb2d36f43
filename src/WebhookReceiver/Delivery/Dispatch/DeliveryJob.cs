using System.Collections.Concurrent;
using System.Text;
using Hangfire;
using Hangfire.Server;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using WebhookReceiver.Data;
using WebhookReceiver.Jobs;

namespace WebhookReceiver.Delivery;

/// <summary>
/// One batch of due actions of one destination, owned through the lease the dispatcher claimed them under. Fixes
/// each first attempt's body, takes request lanes (the destination's MaxConcurrency) and sends in waves within its
/// rate, stops as soon as the destination closes to sends (pause, breaker, Retry-After), and settles every action
/// in one statement: succeeded, failed, or pending with its next attempt time — a retry is a row, not a job.
/// Its result, on the job's dashboard page, lists each action it attempted and how it ended.
/// Hangfire retries the job only when the job itself breaks (the database went away): a re-run continues under
/// the same lease while it lasts, and finds nothing once the lease ran out and the work was claimed again.
/// </summary>
internal sealed class DeliveryJob(
    ActionLedger ledger, DestinationGate gate, DestinationCatalog catalog, IntegrationSender sender, RetrySchedule retries,
    AppDbContext db, NpgsqlDataSource dataSource, AlertSender alerts, DeliveryMetrics metrics, IOptions<JobsOptions> options,
    Observability.TraceContext traces, TimeProvider clock, ILogger<DeliveryJob> logger)
{
    [AutomaticRetry(Attempts = 3, DelaysInSeconds = [1, 5, 15])]
    [System.ComponentModel.DisplayName("{3}")]
    public async Task<string> RunAsync(string destination, Guid lease, long[] actionIds, string summary, PerformContext? context,
        CancellationToken cancellationToken)
    {
        var d = catalog.Named(destination) ?? throw new InvalidOperationException($"unknown destination '{destination}'");
        using var span = traces.StartJob(destination, lease, context?.BackgroundJob.Id, actionIds.Length);
        var ttl = options.Value.Lease;
        var actions = await ledger.BeginAsync(actionIds, lease, context?.BackgroundJob.Id, ttl, cancellationToken);
        if (actions.Count == 0)
        {
            return "Nothing to do: its actions were settled or claimed again by another batch (its lease had run out).";
        }
        var (bodies, poisoned) = await BodiesAsync(actions, lease, cancellationToken);
        var run = new BatchRun(d, lease, ttl, clock) { Span = span };
        foreach (var (action, outcome) in poisoned)
        {
            run.Record(action, outcome);
        }
        var sendable = actions.Where(a => bodies.ContainsKey(a.Id)).ToList();
        try
        {
            if (sendable.Count > 0)
            {
                var lanes = await AcquireLanesAsync(run, Math.Min(sendable.Count, options.Value.SendParallelism), cancellationToken);
                if (lanes > 0)
                {
                    await SendInWavesAsync(run, sendable, bodies, lanes, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The process is stopping: record what was answered and hand the rest back now, so the next process
            // need not wait for the lease to run out. The request cut off is sent again, under the same key and body.
            await SettleAsync(run, actions, CancellationToken.None);
            throw;
        }
        return await SettleAsync(run, actions, CancellationToken.None);
    }

    /// <summary>
    /// Stored bodies for retries; new ones built (and stored) for first attempts. A body that cannot be built fails its action
    /// alone.
    /// </summary>
    private async Task<(Dictionary<long, byte[]> Bodies, List<(LeasedAction, ActionOutcome)> Poisoned)> BodiesAsync(
        List<LeasedAction> actions, Guid lease, CancellationToken ct)
    {
        var bodies = actions.Where(a => a.Payload is not null).ToDictionary(a => a.Id, a => a.Payload!);
        var poisoned = new List<(LeasedAction, ActionOutcome)>();
        var fresh = actions.Where(a => a.Payload is null).ToList();
        if (fresh.Count == 0)
        {
            return (bodies, poisoned);
        }
        var callIds = fresh.Select(a => a.CallId).Distinct().ToList();
        var calls = await db.Calls.AsNoTracking().Where(c => callIds.Contains(c.Id))
            .ToDictionaryAsync(c => c.Id, StringComparer.Ordinal, ct);
        var built = new List<(long, byte[])>();
        foreach (var action in fresh)
        {
            try
            {
                built.Add((action.Id, Payloads.Build(
                    action.Action, action.CallId, action.EventId, calls.GetValueOrDefault(action.CallId), clock.GetUtcNow())));
            }
            catch (Exception ex)
            {
                poisoned.Add((action, ActionOutcome.Internal($"request body could not be built: {ex.Message}")));
            }
        }
        // What is stored is what is sent (another owner's body, if it stored one first); a row lost meanwhile is not sent.
        foreach (var (id, body) in await ledger.SnapshotAsync(lease, built, ct))
        {
            bodies[id] = body;
        }
        return (bodies, poisoned);
    }

    /// <summary>Waits (a while) for free lanes of the destination; 0 when none came free: the batch hands its work back.</summary>
    private async Task<int> AcquireLanesAsync(BatchRun run, int want, CancellationToken ct)
    {
        var wait = TimeSpan.FromMilliseconds(20);
        var giveUp = clock.GetUtcNow() + run.Ttl / 3;
        while (true)
        {
            var lanes = await gate.AcquireSlotsAsync(run.Destination, run.Lease, want, run.Ttl, ct);
            if (lanes > 0 || clock.GetUtcNow() >= giveUp)
            {
                return lanes;
            }
            await Task.Delay(wait, ct);
            wait = TimeSpan.FromMilliseconds(Math.Min(500, wait.TotalMilliseconds * 2));
            await run.KeepLeaseAsync(ledger, gate, ct);
        }
    }

    private async Task SendInWavesAsync(
        BatchRun run, List<LeasedAction> sendable, Dictionary<long, byte[]> bodies, int lanes, CancellationToken ct)
    {
        var queue = new Queue<LeasedAction>(sendable);
        while (queue.Count > 0 && !ct.IsCancellationRequested)
        {
            if (!await run.KeepLeaseAsync(ledger, gate, ct))
            {
                break;
            }
            var want = Math.Min(lanes, queue.Count);
            // Without a rate there are no tokens to take: the only question is whether the destination is still open to
            // sends, and asking it every 100 ms (not every wave) is soon enough for a pause or a breaker.
            var permit = run.Destination.Options.RatePerSecond <= 0 && !run.GateCheckDue()
                ? new Permit(want, false, TimeSpan.Zero)
                : await gate.TakePermitsAsync(run.Destination, want, ct);
            if (permit.Blocked)
            {
                logger.LogInformation("{Destination} closed to sends (paused, breaker open or held): {Count} actions handed back unsent",
                    run.Destination.Name, queue.Count);
                break;
            }
            if (permit.Granted == 0)
            {
                await Task.Delay(permit.Wait < TimeSpan.FromSeconds(1) ? permit.Wait : TimeSpan.FromSeconds(1), ct);
                continue;
            }
            var wave = Enumerable.Range(0, permit.Granted).Select(_ => queue.Dequeue()).Where(a => run.StillOwned(a.Id)).ToList();
            await Task.WhenAll(wave.Select(async action =>
            {
                using var scope = logger.BeginScope(
                    new Dictionary<string, object> { ["CallId"] = action.CallId, ["ActionId"] = action.Id });
                using var send = traces.StartSend(action.Action, action.Id, action.CallId, action.TraceParent, run.Span);
                var outcome = await sender.PostAsync(run.Destination, action.IdempotencyKey, bodies[action.Id], ct);
                Observability.TraceContext.Outcome(send, outcome);
                run.Record(action, outcome);
                metrics.RecordAttempt(action.Action, outcome);
            }));
            if (run.TrailingFailures >= run.Destination.Options.Breaker.FailuresToOpen)
            {
                break; // this batch alone opens the breaker: the rest waits as pending rows
            }
        }
    }

    private async Task<string> SettleAsync(BatchRun run, List<LeasedAction> actions, CancellationToken ct)
    {
        var results = actions.Select(a => run.Outcomes.TryGetValue(a.Id, out var outcome)
            ? new ActionResult(a, outcome, retries.After(outcome, a.Attempts + 1, a.RetryFrom))
            : ActionResult.NotSent(a)).ToList();
        HashSet<long> recorded;
        (BreakerRow Before, BreakerChange After)? breaker;
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        await using (var transaction = await connection.BeginTransactionAsync(ct))
        {
            recorded = await ActionLedger.SettleAsync(connection, run.Lease, results, ct);
            breaker = await DestinationGate.ReportAsync(connection, run.Destination, run.Lease, BatchReport.Of(run.InCompletionOrder), ct);
            await transaction.CommitAsync(ct);
        }
        await AlertAsync(run.Destination, results.Where(r => recorded.Contains(r.Action.Id)).ToList(), breaker);
        foreach (var r in results.Where(r => r.Sent && r.Settlement!.State != ActionState.Succeeded))
        {
            using var scope = logger.BeginScope(new Dictionary<string, object> { ["CallId"] = r.Action.CallId });
            logger.LogWarning("{Action} {ActionId} for call {CallId} failed on attempt {Attempt}: {Error}; now {State}",
                r.Action.Action, r.Action.Id, r.Action.CallId, r.Action.Attempts + 1, r.Outcome!.Error, r.Settlement!.State);
        }
        return Report(results, recorded);
    }

    private async Task AlertAsync(Destination d, List<ActionResult> recorded, (BreakerRow Before, BreakerChange After)? breaker)
    {
        if (breaker is { } b && b.After.Opened(b.Before))
        {
            await alerts.RaiseAsync(d.Name, AlertKind.BreakerOpened,
                $"{d.Name}: circuit breaker opened after {b.After.Row.ConsecutiveFailures} failures in a row; " +
                $"nothing is sent for {b.After.OpenFor?.TotalSeconds:0} s, then one probe. Work waits as pending.");
        }
        if (breaker is { } c && c.After.Closed(c.Before))
        {
            await alerts.RaiseAsync(d.Name, AlertKind.BreakerClosed,
                $"{d.Name}: circuit breaker closed again; the waiting work drains now.");
        }
        var exhausted = recorded.Where(r => r.Settlement?.Exhausted == true).ToList();
        foreach (var r in exhausted)
        {
            metrics.RecordExhausted(r.Action.Action);
        }
        if (exhausted.Count > 0)
        {
            await alerts.RaiseAsync(d.Name, AlertKind.Exhausted,
                $"{d.Name}: {exhausted.Count} {d.Action} action(s) ran out of retries " +
                $"(e.g. action {exhausted[0].Action.Id}, call {exhausted[0].Action.CallId}: {exhausted[0].Outcome!.Error}). " +
                "Retry them from the failures page.");
        }
    }

    /// <summary>
    /// The job's result on its dashboard page: the successes on one line (action id and call), then one line for every
    /// other action with how it ended — a batch of hundreds stays readable, and small in Hangfire's state table.
    /// </summary>
    private static string Report(List<ActionResult> results, HashSet<long> recorded)
    {
        var succeeded = results.Where(r => recorded.Contains(r.Action.Id) && r.Settlement?.State == ActionState.Succeeded).ToList();
        var text = new StringBuilder();
        text.Append(succeeded.Count).Append(" of ").Append(results.Count).AppendLine(" succeeded");
        if (succeeded.Count > 0)
        {
            text.Append("succeeded: ").AppendJoin(", ", succeeded.Select(r => $"action {r.Action.Id} call {r.Action.CallId}")).AppendLine();
        }
        foreach (var r in results.Except(succeeded))
        {
            text.Append("action ").Append(r.Action.Id).Append(' ').Append(r.Action.Action)
                .Append(" call ").Append(r.Action.CallId).Append(": ");
            text.Append((r, recorded.Contains(r.Action.Id)) switch
            {
                (_, false) => "taken over by another batch meanwhile (lease ran out): not recorded here",
                ({ Sent: false }, _) => "not sent (destination closed to sends, or no free lane): waits as pending",
                ({ Settlement.State: ActionState.Pending }, _) =>
                    $"retry in {r.Settlement!.RetryIn!.Value.TotalSeconds:0} s after {r.Outcome!.Error}",
                ({ Settlement.Exhausted: true }, _) => $"failed, retries used up: {r.Outcome!.Error}",
                _ => $"failed: {r.Outcome!.Error}",
            }).AppendLine();
        }
        return text.ToString();
    }

    /// <summary>What the dashboard lists for a batch: destination, size and first calls.</summary>
    public static string Summary(Destination d, IReadOnlyList<string> callIds, bool probe)
    {
        var calls = callIds.Distinct().ToList();
        var shown = string.Join(", ", calls.Take(3)) + (calls.Count > 3 ? $" +{calls.Count - 3} more" : "");
        return $"{(probe ? "Probe: " : "")}{callIds.Count} {d.Action} for {shown}";
    }

    /// <summary>The state of one run of a batch: outcomes in the order they came, and its lease kept alive.</summary>
    private sealed class BatchRun(Destination destination, Guid lease, TimeSpan ttl, TimeProvider clock)
    {
        private readonly ConcurrentQueue<ActionOutcome> _order = new();
        private long _extendedAt = clock.GetTimestamp();
        private HashSet<long>? _owned;

        public Destination Destination => destination;
        public Guid Lease => lease;
        /// <summary>The job run's span (tracing on): each send links to it.</summary>
        public System.Diagnostics.Activity? Span { get; init; }
        public TimeSpan Ttl => ttl;
        public ConcurrentDictionary<long, ActionOutcome> Outcomes { get; } = new();
        public IReadOnlyList<ActionOutcome> InCompletionOrder => [.. _order];

        public int TrailingFailures => BatchReport.Of(InCompletionOrder).TrailingFailures;

        public void Record(LeasedAction action, ActionOutcome outcome)
        {
            Outcomes[action.Id] = outcome;
            _order.Enqueue(outcome);
        }

        public bool StillOwned(long id) => _owned is null || _owned.Contains(id);

        private long _gateCheckedAt;

        /// <summary>True on the first call and then once 100 ms have passed since the last true.</summary>
        public bool GateCheckDue()
        {
            var now = clock.GetTimestamp();
            if (_gateCheckedAt != 0 && clock.GetElapsedTime(_gateCheckedAt, now) < TimeSpan.FromMilliseconds(100))
            {
                return false;
            }
            _gateCheckedAt = now;
            return true;
        }

        /// <summary>Renews the lease (rows and lanes) once a third of it has passed; false when the batch owns nothing any more.</summary>
        public async Task<bool> KeepLeaseAsync(ActionLedger ledger, DestinationGate gate, CancellationToken ct)
        {
            if (clock.GetElapsedTime(_extendedAt) < ttl / 3)
            {
                return _owned is null || _owned.Count > 0;
            }
            _owned = await ledger.ExtendAsync(lease, ttl, ct);
            await gate.ExtendSlotsAsync(lease, ttl, ct);
            _extendedAt = clock.GetTimestamp();
            return _owned.Count > 0;
        }
    }
}
