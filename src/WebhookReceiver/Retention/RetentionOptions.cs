using System.ComponentModel.DataAnnotations;

namespace WebhookReceiver.Retention;

internal sealed class RetentionOptions
{
    public const string SectionName = "Retention";

    /// <summary>Stored events and quarantined bodies older than this (by arrival) are purged; 0 or less keeps everything.</summary>
    public int Days { get; set; } = 30;

    /// <summary>
    /// An event whose work failed for good is kept this long (by arrival) so the failure can be inspected and retried,
    /// then purged like the rest: nothing pins the table forever.
    /// </summary>
    [Range(1, 36_500)]
    public int KeepFailedDays { get; set; } = 90;

    /// <summary>Rows per DELETE statement: each batch commits on its own, so no lock is held for long.</summary>
    [Range(100, 100_000)]
    public int BatchSize { get; set; } = 5000;

    /// <summary>Cron (UTC) of the recurring purge; hourly keeps each run small.</summary>
    [Required]
    public string Schedule { get; set; } = "7 * * * *";

    public bool Enabled => Days > 0;
}
