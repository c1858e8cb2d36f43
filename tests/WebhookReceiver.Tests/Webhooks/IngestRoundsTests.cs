using CsCheck;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Webhooks;

/// <summary>
/// The set-based ingest statement may touch a call and an identity once: the rounds a batch is split into must
/// keep each call's and each identity's events apart and in arrival order, and lose or repeat nothing.
/// </summary>
public sealed class IngestRoundsTests
{
    private static IngestCommand Event(string callId, string identity) => new(
        identity, null, callId, "call.ringing", "ringing", false, DateTimeOffset.UnixEpoch, null, null, null, null, null,
        ReadOnlyMemory<byte>.Empty);

    [Fact]
    public void Events_of_different_calls_share_one_round_in_arrival_order()
    {
        var rounds = IngestRounds.Split([Event("a", "1"), Event("b", "2"), Event("c", "3")]);

        Assert.Equal([[0, 1, 2]], rounds);
    }

    [Fact]
    public void A_calls_second_and_third_events_go_to_later_rounds()
    {
        var rounds = IngestRounds.Split([Event("a", "1"), Event("b", "2"), Event("a", "3"), Event("a", "4"), Event("b", "5")]);

        Assert.Equal([[0, 1], [2, 4], [3]], rounds);
    }

    [Fact]
    public void Two_deliveries_of_one_identity_are_never_in_one_round_even_for_different_calls()
    {
        var rounds = IngestRounds.Split([Event("a", "same"), Event("b", "same")]);

        Assert.Equal([[0], [1]], rounds);
    }

    [Fact]
    public void Any_batch_is_split_into_rounds_that_keep_calls_and_identities_unique_and_in_order()
    {
        var gen = Gen.Select(Gen.Int[0, 5], Gen.Int[0, 7]).Array[1, 64];
        gen.Sample(pairs =>
        {
            var commands = pairs.Select(p => Event("call" + p.Item1, "id" + p.Item2)).ToArray();
            var rounds = IngestRounds.Split(commands);

            // Every event exactly once.
            Assert.Equal(Enumerable.Range(0, commands.Length), rounds.SelectMany(r => r).Order());
            var roundOf = new int[commands.Length];
            for (var r = 0; r < rounds.Count; r++)
            {
                Assert.NotEmpty(rounds[r]);
                Assert.Equal(rounds[r].Count, rounds[r].Select(i => commands[i].CallId).Distinct().Count());
                Assert.Equal(rounds[r].Count, rounds[r].Select(i => commands[i].Identity).Distinct().Count());
                Assert.Equal(rounds[r].Order(), rounds[r]);
                foreach (var i in rounds[r])
                {
                    roundOf[i] = r;
                }
            }
            // A later arrival of the same call or identity runs in a later round: the statements see them in order.
            for (var i = 0; i < commands.Length; i++)
            {
                for (var j = i + 1; j < commands.Length; j++)
                {
                    if (commands[i].CallId == commands[j].CallId || commands[i].Identity == commands[j].Identity)
                    {
                        Assert.True(roundOf[i] < roundOf[j], $"events {i} and {j} share a call or identity but not the order");
                    }
                }
            }
        });
    }
}
