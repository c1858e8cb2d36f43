using System.Net;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Operators;

/// <summary>
/// Operator queries hold phone numbers and customer IDs: the audit line (and every other log line) names the path of an
/// operator request, never its query.
/// </summary>
[Collection(ReceiverCollection.Name)]
public sealed class AuditPrivacyTests(ReceiverFactory app)
{
    [Fact]
    public async Task The_operator_audit_logs_the_path_without_the_query()
    {
        var digits = "555" + Random.Shared.Next(1_000_000, 9_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var customer = "secret_cust_" + Guid.NewGuid().ToString("N")[..12];
        using var client = app.CreateClient();

        var search = "{\"call\":{\"from\":\"+1" + digits + "\"}}";
        using var events = await client.GetAsync(new Uri("/events?json=" + Uri.EscapeDataString(search), UriKind.Relative));
        using var calls = await client.GetAsync(new Uri($"/calls?customer_id={customer}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, events.StatusCode);
        Assert.Equal(HttpStatusCode.OK, calls.StatusCode);
        // The audit line itself: other lines (a re-ingest, a pause) also start with "Operator {Operator}".
        var audited = app.Logs.Events
            .Where(e => e.MessageTemplate.Text.StartsWith("Operator {Operator} {Method} {Path}", StringComparison.Ordinal))
            .Select(e => e.Properties["Path"].ToString()).ToList();
        Assert.Contains("\"/events\"", audited);
        Assert.Contains("\"/calls\"", audited);
        var logs = app.Logs.AsJsonLines();
        Assert.DoesNotContain(digits, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(customer, logs, StringComparison.Ordinal);
    }
}
