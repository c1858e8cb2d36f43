using CsCheck;
using WebhookReceiver.Delivery;

namespace WebhookReceiver.Tests.Delivery;

/// <summary>
/// Idempotency-Keys: <c>crm.sync:{event_id}</c>, <c>ticket.create:{percent-encoded call_id}</c>, replays
/// <c>…:replay:{action_id}</c>. Whatever a call ID holds, the key is a valid header value, the same every time, and
/// different call IDs get different keys.
/// </summary>
public sealed class IdempotencyKeyTests
{
    private static readonly Gen<string> WellFormedText =
        Gen.OneOf(Gen.Char.Where(c => !char.IsSurrogate(c)), Gen.Char["\r\n\t \"%:/?#ü日€\u0000\u007f"]).Array[1, 64]
            .Select(c => new string(c));

    [Fact]
    public void The_formats_are_as_documented()
    {
        Assert.Equal("crm.sync:42", IdempotencyKey.For(ActionNames.CrmSync, "call_1", 42, 7, replay: false));
        Assert.Equal("crm.sync:42:replay:7", IdempotencyKey.For(ActionNames.CrmSync, "call_1", 42, 7, replay: true));
        Assert.Equal("ticket.create:call_AZaz09-._~",
            IdempotencyKey.For(ActionNames.TicketCreate, "call_AZaz09-._~", 42, 7, replay: false));
        Assert.Equal("ticket.create:call_1:replay:7", IdempotencyKey.For(ActionNames.TicketCreate, "call_1", 42, 7, replay: true));
    }

    [Theory]
    [InlineData("call\r\nX-Injected: yes", "ticket.create:call%0D%0AX-Injected%3A%20yes")]
    [InlineData("appel-été-☎", "ticket.create:appel-%C3%A9t%C3%A9-%E2%98%8E")]
    [InlineData("call with spaces", "ticket.create:call%20with%20spaces")]
    [InlineData("a%20b", "ticket.create:a%2520b")]
    [InlineData("😀", "ticket.create:%F0%9F%98%80")]
    public void A_call_id_a_header_cannot_carry_is_percent_encoded_into_one_it_accepts(string callId, string expected)
    {
        var key = IdempotencyKey.For(ActionNames.TicketCreate, callId, null, 1, replay: false);

        Assert.Equal(expected, key);
        Assert.Equal(key, RoundTrip(key));
    }

    [Fact]
    public void Any_call_id_gives_a_stable_key_that_a_request_header_accepts_as_it_is()
    {
        WellFormedText.Sample(callId =>
        {
            var key = IdempotencyKey.For(ActionNames.TicketCreate, callId, null, 1, replay: false);
            Assert.Equal(key, IdempotencyKey.For(ActionNames.TicketCreate, callId, 99, 2, replay: false));
            Assert.All(key, c => Assert.InRange(c, '!', '~'));
            Assert.Equal(key, RoundTrip(key));
            var replay = IdempotencyKey.For(ActionNames.TicketCreate, callId, null, 123, replay: true);
            Assert.Equal(replay, RoundTrip(replay));
        });
    }

    [Fact]
    public void Different_call_ids_get_different_keys()
    {
        Gen.Select(WellFormedText, WellFormedText).Where((a, b) => a != b).Sample((a, b) =>
            Assert.NotEqual(IdempotencyKey.For(ActionNames.TicketCreate, a, null, 1, false),
                IdempotencyKey.For(ActionNames.TicketCreate, b, null, 1, false)));
    }

    /// <summary>The key as the sender sets it (<c>Headers.Add</c>, which validates) and as it goes on the wire.</summary>
    private static string RoundTrip(string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://crm.example/calls");
        request.Headers.Add("Idempotency-Key", key);
        Assert.True(request.Headers.TryGetValues("Idempotency-Key", out var values));
        Assert.DoesNotContain('\n', request.Headers.ToString().Trim());
        return Assert.Single(values);
    }
}
