using Npgsql;
using WebhookReceiver.MiniVoice;

namespace WebhookReceiver.Calls;

/// <summary>
/// Stores a call MiniVoice just created, at once. A webhook for it may have won the race: then its row is
/// kept and only fields it lacks are filled in, so neither side loses anything.
/// </summary>
internal sealed class CreatedCallStore(NpgsqlDataSource dataSource)
{
    private const string Sql =
        "INSERT INTO calls (id, customer_id, application_id, direction, from_number, to_number, status, is_final, " +
        "                   variables, variable_times, recordings, transcripts, ai_results, activity_at, created_at, updated_at) " +
        "VALUES ($1, $2, $3, $4, $5, $6, $7, false, '{}', '{}', '[]', '[]', '[]', now(), now(), now()) " +
        "ON CONFLICT (id) DO UPDATE SET " +
        "  customer_id = COALESCE(calls.customer_id, EXCLUDED.customer_id), " +
        "  application_id = COALESCE(calls.application_id, EXCLUDED.application_id), " +
        "  direction = COALESCE(calls.direction, EXCLUDED.direction), " +
        "  from_number = COALESCE(calls.from_number, EXCLUDED.from_number), " +
        "  to_number = COALESCE(calls.to_number, EXCLUDED.to_number), " +
        "  status = COALESCE(calls.status, EXCLUDED.status), " +
        "  updated_at = now()";

    public async Task StoreAsync(CreatedCall call, CreateCallRequest asked)
    {
        await using var command = dataSource.CreateCommand(Sql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = call.Id });
        foreach (var value in new[]
                 {
                     call.CustomerId, call.ApplicationId, call.Direction ?? "outbound", call.From ?? asked.From, call.To ?? asked.To,
                     CallStatus.Normalize(call.Status) ?? CallStatus.Dialing,
                 })
        {
            command.Parameters.Add(
                new NpgsqlParameter { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        }
        // Not cancellable: MiniVoice already placed the call, so its ID must be kept even if our caller left.
        await command.ExecuteNonQueryAsync(CancellationToken.None);
    }
}
