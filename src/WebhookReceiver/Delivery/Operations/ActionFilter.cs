using Npgsql;
using NpgsqlTypes;

namespace WebhookReceiver.Delivery;

/// <summary>
/// Which actions a bulk retry or cancel applies to. Every field is optional; all given ones must match.
/// Times compare with the action's last attempt (else its last change), as the failures view groups them.
/// </summary>
internal sealed record ActionFilter(string? Action = null, string? ErrorKind = null, int? HttpStatus = null,
    DateTimeOffset? Since = null, DateTimeOffset? Until = null)
{
    /// <summary>The actions there are (also what a replay may be limited to).</summary>
    public static readonly IReadOnlyList<string> Actions = [ActionNames.CrmSync, ActionNames.TicketCreate];

    /// <summary>One SQL condition over call_actions with parameters $first..$first+4, so the statement text never varies.</summary>
    public static string Sql(int first) =>
        $"(${first}::text IS NULL OR action = ${first}) AND (${first + 1}::text IS NULL OR last_error_kind = ${first + 1}) " +
        $"AND (${first + 2}::int IS NULL OR last_http_status = ${first + 2}) " +
        $"AND (${first + 3}::timestamptz IS NULL OR coalesce(last_attempt_at, updated_at) >= ${first + 3}) " +
        $"AND (${first + 4}::timestamptz IS NULL OR coalesce(last_attempt_at, updated_at) < ${first + 4})";

    public void AddParameters(NpgsqlCommand command)
    {
        command.Parameters.Add(
            new NpgsqlParameter { Value = (object?)Action ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(
            new NpgsqlParameter { Value = (object?)ErrorKind ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(
            new NpgsqlParameter { Value = (object?)HttpStatus ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
        command.Parameters.Add(
            new NpgsqlParameter { Value = (object?)Since?.UtcDateTime ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(
            new NpgsqlParameter { Value = (object?)Until?.UtcDateTime ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
    }

    /// <summary>Field → messages, empty when the filter is usable.</summary>
    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        if (Action is not null && !Actions.Contains(Action))
        {
            errors["action"] = [$"must be one of {string.Join(", ", Actions)}"];
        }
        if (ErrorKind is not null && !ActionErrorKind.All.Contains(ErrorKind))
        {
            errors["error_kind"] = [$"must be one of {string.Join(", ", ActionErrorKind.All)}"];
        }
        if (HttpStatus is < 100 or > 599)
        {
            errors["http_status"] = ["must be an HTTP status code (100–599)"];
        }
        if (Since is not null && Until is not null && Since >= Until)
        {
            errors["until"] = ["must be later than since"];
        }
        return errors;
    }
}
