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

    /// <summary>Ledger and Hangfire job states, for timeout messages.</summary>
    public static async Task<string> DescribeAsync(string cs) =>
        "actions " + await Db.ScalarAsync<string>(cs,
            "SELECT coalesce(string_agg(state || '=' || n, ', '), 'none') FROM (SELECT state, count(*) n FROM call_actions GROUP BY state) s")
        + "; undispatched " + await Db.CountAsync(cs, "SELECT count(*) FROM call_actions WHERE state = 'pending' AND dispatched_at IS NULL")
        + "; jobs " + await Db.ScalarAsync<string>(cs,
            "SELECT coalesce(string_agg(statename || '=' || n, ', '), 'none') FROM (SELECT coalesce(statename, 'none') statename, count(*) n FROM hangfire.job GROUP BY 1) s");

    /// <summary>Waits until every action of the call has left 'pending'.</summary>
    public static Task SettledAsync(string cs, string callId, TimeSpan? timeout = null) => Eventually.WaitAsync(
        async () => await CountAsync(cs, callId) > 0
                    && await Db.CountAsync(cs, "SELECT count(*) FROM call_actions WHERE call_id = $1 AND state = 'pending'", callId) == 0,
        timeout ?? TimeSpan.FromSeconds(30), $"all actions of {callId} settled");
}
