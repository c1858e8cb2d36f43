using System.ComponentModel.DataAnnotations;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.StaleCalls;

/// <summary>The stale-call settings of the Workflows section (README "Stale calls").</summary>
internal sealed class StaleCallOptions
{
    public const string SectionName = WorkflowOptions.SectionName;

    /// <summary>
    /// A call that is not final this long after its last event (by our clock) is marked stale; 0 or less turns the sweep
    /// off. A fraction is allowed (tests use seconds).
    /// </summary>
    public double StaleCallAfterMinutes { get; set; } = 240;

    /// <summary>Also open a ticket (ticket.create, once per call) saying the final status never arrived.</summary>
    public bool TicketOnStaleCall { get; set; }

    /// <summary>Cron (UTC) of the recurring sweep.</summary>
    [Required]
    public string StaleCallSweepSchedule { get; set; } = "*/5 * * * *";

    /// <summary>Calls marked per statement: each batch commits on its own, so no lock is held for long.</summary>
    [Range(10, 100_000)]
    public int StaleCallBatchSize { get; set; } = 1000;

    public bool Enabled => StaleCallAfterMinutes > 0;
}
