namespace WebhookReceiver.IntegrationTests.Infrastructure;

/// <summary>Reads of the action ledger (call_actions) and of Hangfire's own tables.</summary>
internal static class Actions
{
    public static Task<long> CountAsync(string cs, string callId, string action, string state) => Db.CountAsync(cs,
        "SELECT count(*) FROM call_actions WHERE call_id = $1 AND action = $2 AND state = $3", callId, action, state);

    public static Task<long> CountAsync(string cs, string callId) =>
        Db.CountAsync(cs, "SELECT count(*) FROM call_actions WHERE call_id = $1", callId);

    public static Task<string?> JobStateAsync(string cs, string callId, string action) => Db.ScalarAsync<string>(cs,
        "SELECT j.statename FROM call_actions a JOIN hangfire.job j ON j.id = a.job_id::bigint WHERE a.call_id = $1 AND a.action = $2",
        callId, action);

    public static Task<string?> JobIdAsync(string cs, string callId, string action) => Db.ScalarAsync<string>(cs,
        "SELECT job_id FROM call_actions WHERE call_id = $1 AND action = $2", callId, action);

    /// <summary>The result (text) of the last job that attempted the action, as its dashboard page shows it.</summary>
    public static Task<string?> JobResultAsync(string cs, string callId, string action) => Db.ScalarAsync<string>(cs,
        "SELECT (s.data::jsonb ->> 'Result')::jsonb #>> '{}' FROM call_actions a JOIN hangfire.state s ON s.jobid = a.job_id::bigint " +
        "WHERE a.call_id = $1 AND a.action = $2 AND s.name = 'Succeeded' ORDER BY s.id DESC LIMIT 1", callId, action);

    /// <summary>Ledger and Hangfire job states, for timeout messages.</summary>
    public static async Task<string> DescribeAsync(string cs) =>
        "actions " + await Db.ScalarAsync<string>(cs,
            "SELECT coalesce(string_agg(state || '=' || n, ', '), 'none') FROM (SELECT state, count(*) n FROM call_actions GROUP BY state) s")
        + "; due and unowned " + await Db.CountAsync(cs,
            "SELECT count(*) FROM call_actions WHERE state = 'pending' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())")
        + "; jobs " + await Db.ScalarAsync<string>(cs,
            "SELECT coalesce(string_agg(statename || '=' || n, ', '), 'none') FROM (SELECT coalesce(statename, 'none') statename, count(*) n FROM hangfire.job GROUP BY 1) s");

    /// <summary>Waits until every action of the call has left 'pending'.</summary>
    public static Task SettledAsync(string cs, string callId, TimeSpan? timeout = null) => Eventually.WaitAsync(
        async () => await CountAsync(cs, callId) > 0
                    && await Db.CountAsync(cs, "SELECT count(*) FROM call_actions WHERE call_id = $1 AND state = 'pending'", callId) == 0,
        timeout ?? TimeSpan.FromSeconds(30), $"all actions of {callId} settled");
}
