namespace WebhookReceiver.Delivery;

/// <summary>
/// A bulk retry or cancel runs as a Hangfire job over every matching row (not one page of them): an operator
/// request returns at once, the dashboard shows its progress and its result, and a crash resumes it.
/// </summary>
internal sealed class BulkActionJob(ActionRecovery recovery)
{
    public const string Retry = "retry";
    public const string Cancel = "cancel";

    [System.ComponentModel.DisplayName("Bulk {0} of actions requested by {2}")]
    public async Task<string> RunAsync(string operation, ActionFilter filter, string requestedBy, CancellationToken cancellationToken)
    {
        var count = operation switch
        {
            Retry => await recovery.RetryAllAsync(filter, requestedBy, cancellationToken),
            Cancel => await recovery.CancelAllAsync(filter, requestedBy, cancellationToken),
            _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, "retry or cancel"),
        };
        return $"{count} actions {(operation == Retry ? "made due now with a fresh retry budget" : "cancelled")}";
    }
}
