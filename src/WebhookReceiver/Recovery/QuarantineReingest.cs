using System.Text.Json;
using Npgsql;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Recovery;

internal abstract record ReingestResult
{
    public sealed record NotFound : ReingestResult;
    public sealed record AlreadyDone(long EventId) : ReingestResult;
    public sealed record Truncated(int BodyLength) : ReingestResult;
    public sealed record StillInvalid(string Reason, Dictionary<string, string[]> Fields) : ReingestResult;
    public sealed record Stored(IngestResult Result, string CallId) : ReingestResult;
}

/// <summary>
/// Puts a quarantined body (as stored, or as corrected by the operator) through the same validation and the
/// same ingest statement as the webhook endpoint; authentication is not asked again — only authenticated
/// requests are quarantined. The quarantine row keeps the original and records what it became.
/// </summary>
internal sealed class QuarantineReingest(NpgsqlDataSource dataSource, WebhookIngest ingest, ILogger<QuarantineReingest> audit)
{
    public async Task<ReingestResult> ReingestAsync(long quarantineId, byte[]? correctedBody, string requestedBy, CancellationToken ct)
    {
        byte[] stored;
        bool truncated;
        long? doneAs;
        var headers = new HeaderDictionary();
        string keptHeaders;
        await using (var command = dataSource.CreateCommand(
            "SELECT raw_body, truncated, reingested_event_id, headers::text FROM quarantined_webhooks WHERE id = $1"))
        {
            command.Parameters.AddWithValue(quarantineId);
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return new ReingestResult.NotFound();
            }
            (stored, truncated, doneAs) = ((byte[])reader[0], reader.GetBoolean(1), reader.IsDBNull(2) ? null : reader.GetInt64(2));
            keptHeaders = reader.GetString(3);
            foreach (var (name, value) in JsonSerializer.Deserialize<Dictionary<string, string>>(keptHeaders) ?? [])
            {
                headers[name] = value;
            }
        }
        if (doneAs is not null)
        {
            return new ReingestResult.AlreadyDone(doneAs.Value);
        }
        if (correctedBody is null && truncated)
        {
            return new ReingestResult.Truncated(stored.Length);
        }
        var body = correctedBody ?? stored;
        // The original webhook-id (kept in the quarantine headers) stays the identity: a redelivery that MiniVoice
        // makes after the fix is then a duplicate, not a second event.
        // The event keeps the original request's headers (as the quarantine kept them), not the operator's request.
        var outcome = await ingest.IngestAsync(body, headers, keptHeaders);
        if (outcome is IngestOutcome.Invalid invalid)
        {
            return new ReingestResult.StillInvalid(invalid.Reason, invalid.Fields);
        }
        if (outcome is IngestOutcome.Unavailable unavailable)
        {
            // Not the operator's fault and nothing stored: the API answers it as any database outage.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(unavailable.Error);
        }
        var (payload, result) = (IngestOutcome.Stored)outcome;
        await using (var mark = dataSource.CreateCommand(
            "UPDATE quarantined_webhooks SET reingested_at = now(), reingested_event_id = $2, reingested_by = $3 WHERE id = $1"))
        {
            mark.Parameters.AddWithValue(quarantineId);
            mark.Parameters.AddWithValue(result.EventId);
            mark.Parameters.AddWithValue(requestedBy);
            await mark.ExecuteNonQueryAsync(CancellationToken.None);
        }
        audit.LogInformation(
            "Operator {Operator} re-ingested quarantined webhook {QuarantineId}{Corrected} for call {CallId}: {Result} as event {EventId}",
            requestedBy, quarantineId, correctedBody is null ? "" : " (corrected body)", payload.CallId,
            result.Duplicate ? "duplicate" : "accepted", result.EventId);
        return new ReingestResult.Stored(result, payload.CallId!);
    }
}
