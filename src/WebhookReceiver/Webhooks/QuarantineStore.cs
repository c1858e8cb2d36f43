using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace WebhookReceiver.Webhooks;

/// <summary>Keeps refused (but authenticated) bodies so an operator can inspect and replay them.</summary>
internal sealed class QuarantineStore(NpgsqlDataSource dataSource, IOptions<WebhookOptions> options)
{
    /// <param name="keptHeaders">The request's <see cref="KeptHeaders"/> JSON (the accepted events' allow-list): what
    /// helps an operator replay and investigate, never Authorization or signatures.</param>
    public async Task<long> AddAsync(HttpContext context, ReadOnlyMemory<byte> body, string keptHeaders, string reason,
        IDictionary<string, string[]> errors, CancellationToken cancellationToken)
    {
        var cap = options.Value.QuarantineMaxBodyBytes;
        var kept = body.Length > cap ? body[..cap] : body;

        await using var command = dataSource.CreateCommand(
            "INSERT INTO quarantined_webhooks (received_at, reason, errors, raw_body, body_length, truncated, headers, remote_address) " +
            "VALUES (now(), $1, $2, $3, $4, $5, $6, $7) RETURNING id");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = reason });
        command.Parameters.Add(
            new NpgsqlParameter<string> { TypedValue = JsonSerializer.Serialize(errors), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>> { TypedValue = kept, NpgsqlDbType = NpgsqlDbType.Bytea });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = body.Length });
        command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = body.Length > cap });
        command.Parameters.Add(
            new NpgsqlParameter<string> { TypedValue = keptHeaders, NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new NpgsqlParameter
        {
            Value = (object?)context.Connection.RemoteIpAddress?.ToString() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text,
        });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
