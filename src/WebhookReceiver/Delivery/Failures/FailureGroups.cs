using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using WebhookReceiver.Data;

namespace WebhookReceiver.Delivery;

/// <summary>One failing action in a group's sample, with where to look at it.</summary>
internal sealed record FailureSample(long ActionId, string CallId, string State, int Attempts, string? LastError, string? JobId,
    DateTime? LastAttemptAt, FailureLinks Links);

internal sealed record FailureLinks(string Call, string Console, string? Job);

/// <summary>Failing actions that share (action, error kind, HTTP status): usually one cause, so one fix and one bulk retry.</summary>
internal sealed record FailureGroup(string Action, string? LastErrorKind, int? LastHttpStatus, long Count, long Failed, long Retrying,
    DateTime FirstSeen, DateTime LastSeen, IReadOnlyList<FailureSample> Samples);

internal sealed record FailureReport(DateTime? Since, DateTime? Until, IReadOnlyList<FailureGroup> Groups);

/// <summary>
/// GET /actions/failures: actions that failed for good, or are waiting for a retry after a failed attempt, grouped.
/// Times are each action's last attempt (or last change, for one that never got to an attempt).
/// </summary>
internal sealed class FailureGroups(NpgsqlDataSource dataSource)
{
    /// <summary>Samples per group (the literal in the query).</summary>
    public const int SamplesPerGroup = 10;

    private const string Sql = $"""
        WITH failing AS (
            SELECT id, call_id, action, state, attempts, last_error, last_error_kind, last_http_status, job_id, last_attempt_at,
                   coalesce(last_attempt_at, updated_at) AS seen_at, coalesce(first_attempt_at, created_at) AS first_at,
                   row_number() OVER (PARTITION BY action, last_error_kind, last_http_status
                                      ORDER BY coalesce(last_attempt_at, updated_at) DESC, id DESC) AS n
            FROM call_actions
            WHERE ({ActionState.FailingFilter})
              AND (@since::timestamptz IS NULL OR coalesce(last_attempt_at, updated_at) >= @since)
              AND (@until::timestamptz IS NULL OR coalesce(last_attempt_at, updated_at) < @until))
        SELECT action, last_error_kind, last_http_status, count(*), count(*) FILTER (WHERE state = '{ActionState.Failed}'),
               min(first_at), max(seen_at),
               jsonb_agg(jsonb_build_object('action_id', id, 'call_id', call_id, 'state', state, 'attempts', attempts,
                         'last_error', last_error, 'job_id', job_id, 'last_attempt_at', last_attempt_at) ORDER BY n)
                   FILTER (WHERE n <= 10)::text
        FROM failing
        GROUP BY action, last_error_kind, last_http_status
        ORDER BY count(*) DESC, max(seen_at) DESC
        """;

    public async Task<FailureReport> ReadAsync(DateTime? since, DateTime? until, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Sql);
        command.Parameters.Add(new NpgsqlParameter("since", NpgsqlDbType.TimestampTz) { Value = (object?)since ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("until", NpgsqlDbType.TimestampTz) { Value = (object?)until ?? DBNull.Value });
        var groups = new List<FailureGroup>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var count = reader.GetInt64(3);
            var failed = reader.GetInt64(4);
            groups.Add(new FailureGroup(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetInt32(2), count, failed, count - failed,
                reader.GetDateTime(5), reader.GetDateTime(6), Samples(reader.GetString(7))));
        }
        return new FailureReport(since, until, groups);
    }

    private static List<FailureSample> Samples(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateArray().Select(s =>
        {
            var callId = s.GetProperty("call_id").GetString()!;
            var jobId = s.GetProperty("job_id").GetString();
            return new FailureSample(s.GetProperty("action_id").GetInt64(), callId, s.GetProperty("state").GetString()!,
                s.GetProperty("attempts").GetInt32(), s.GetProperty("last_error").GetString(), jobId,
                s.GetProperty("last_attempt_at").ValueKind == JsonValueKind.Null
                    ? null
                    : s.GetProperty("last_attempt_at").GetDateTime().ToUniversalTime(),
                LinksFor(callId, jobId));
        }).ToList();
    }

    public static FailureLinks LinksFor(string callId, string? jobId) => new(
        "/calls/" + Uri.EscapeDataString(callId), "/console/calls/" + Uri.EscapeDataString(callId),
        jobId is null ? null : "/hangfire/jobs/details/" + Uri.EscapeDataString(jobId));
}
