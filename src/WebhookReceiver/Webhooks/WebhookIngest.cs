using FluentValidation;
using Microsoft.Extensions.Options;
using Npgsql;

namespace WebhookReceiver.Webhooks;

/// <summary>What became of a body given to <see cref="WebhookIngest"/>.</summary>
internal abstract record IngestOutcome
{
    /// <summary>Stored as a new event, or recognised as one stored before (<see cref="IngestResult.Duplicate"/>).</summary>
    public sealed record Stored(WebhookPayload Payload, IngestResult Result) : IngestOutcome;

    /// <summary>Refused for the sender's data: each bad field named. The payload when it could be read.</summary>
    public sealed record Invalid(string Reason, Dictionary<string, string[]> Fields, WebhookPayload? Payload) : IngestOutcome;

    /// <summary>Not stored because the database could not take it now: the sender should retry.</summary>
    public sealed record Unavailable(Exception Error) : IngestOutcome;
}

/// <summary>
/// The one way a body becomes an event: parse, validate, store through the group commit, and map the database's
/// refusals to the sender's fault or to an outage. The webhook endpoint and an operator's re-ingest of a
/// quarantined body both come through here, so they cannot disagree about what is valid or storable.
/// </summary>
internal sealed class WebhookIngest(
    IngestWriter writer, IValidator<WebhookPayload> validator, IOptions<WebhookOptions> options,
    Observability.TraceContext traces)
{
    private readonly bool _keepHeaders = options.Value.KeepRequestHeaders;

    /// <param name="keptHeaders">The request's <see cref="KeptHeaders"/> JSON; stored only when Webhooks:KeepRequestHeaders.</param>
    public async Task<IngestOutcome> IngestAsync(byte[] body, IHeaderDictionary headers, string? keptHeaders)
    {
        var (payload, errors) = WebhookParser.Parse(body, headers, validator);
        if (errors is not null)
        {
            return new IngestOutcome.Invalid(errors.Value.Reason, errors.Value.Fields, payload);
        }
        try
        {
            var command = IngestCommand.For(payload!, WebhookHeaders.Id(headers), body, _keepHeaders ? keptHeaders : null,
                traces.CurrentParent());
            return new IngestOutcome.Stored(payload!, await writer.IngestAsync(command));
        }
        catch (PostgresException ex) when (ex.SqlState.StartsWith("22", StringComparison.Ordinal))
        {
            // Class 22, data exception: valid JSON that PostgreSQL cannot hold (a \u0000, a number past numeric's
            // range). The sender's data, not our outage: a 503 would have it retried forever.
            var fields = new Dictionary<string, string[]> { ["body"] = [$"holds a value PostgreSQL cannot store ({ex.MessageText})"] };
            return new IngestOutcome.Invalid("unstorable_text", fields, payload);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            return new IngestOutcome.Unavailable(ex);
        }
    }

    /// <summary>The database cannot take writes now (down, unreachable, overloaded): worth a retry later.</summary>
    public static bool IsUnavailable(Exception ex) => ex is NpgsqlException or TimeoutException or IngestUnavailableException;
}
