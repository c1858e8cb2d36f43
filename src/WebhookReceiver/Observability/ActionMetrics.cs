using System.Diagnostics.Metrics;
using WebhookReceiver.Integrations;

namespace WebhookReceiver.Observability;

/// <summary>Job attempts by action and outcome; recorded where an attempt's outcome is written to the ledger.</summary>
internal sealed class ActionMetrics
{
    public const string MeterName = "WebhookReceiver.Jobs";
    private readonly Counter<long> _attempts;

    public ActionMetrics(IMeterFactory meterFactory) =>
        _attempts = meterFactory.Create(MeterName).CreateCounter<long>("webhookreceiver.jobs.attempts",
            description: "Attempts of background actions by action and outcome (succeeded, transient_failure, permanent_failure)");

    public void RecordAttempt(string action, ActionOutcome outcome) => _attempts.Add(1,
        new KeyValuePair<string, object?>("action", Known(action)),
        new KeyValuePair<string, object?>("outcome", outcome.Succeeded ? "succeeded" : outcome.Permanent ? "permanent_failure" : "transient_failure"));

    // An action name comes from our own rows, but a tag must never open an unbounded set of series.
    private static string Known(string action) => action is ActionSender.CrmSync or ActionSender.TicketCreate ? action : "other";
}
