namespace WebhookReceiver.Webhooks;

/// <summary>
/// Splits a batch into rounds for the set-based ingest statement: one statement may touch a call row (and an
/// identity) only once, so a call's second event in a batch goes to the next round. Rounds keep arrival order per
/// call and per identity, so a batch ends exactly as if its events had come one by one.
/// </summary>
internal static class IngestRounds
{
    /// <summary>For each round, the positions in <paramref name="commands"/> of its events, in arrival order.</summary>
    public static List<List<int>> Split(IReadOnlyList<IngestCommand> commands)
    {
        var rounds = new List<List<int>>();
        var nextByCall = new Dictionary<string, int>(commands.Count, StringComparer.Ordinal);
        var nextByIdentity = new Dictionary<string, int>(commands.Count, StringComparer.Ordinal);
        for (var i = 0; i < commands.Count; i++)
        {
            var (callId, identity) = (commands[i].CallId, commands[i].Identity);
            var round = Math.Max(nextByCall.GetValueOrDefault(callId), nextByIdentity.GetValueOrDefault(identity));
            if (round == rounds.Count)
            {
                rounds.Add(new List<int>(round == 0 ? commands.Count : 4));
            }
            rounds[round].Add(i);
            nextByCall[callId] = round + 1;
            nextByIdentity[identity] = round + 1;
        }
        return rounds;
    }
}
