using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Webhooks;

public sealed class EventIdentityTests
{
    private static DateTimeOffset At(string rfc3339)
    {
        Assert.True(Rfc3339.TryParse(rfc3339, out var at), rfc3339);
        return at;
    }

    [Fact]
    public void Identity_with_a_webhook_id_is_that_id()
    {
        var identity = EventIdentity.For("msg_123", "call_123", "call.completed", At("2026-05-29T12:10:00Z"));

        Assert.Equal("id:msg_123", identity);
    }

    [Fact]
    public void Identity_with_a_webhook_id_ignores_call_event_and_time()
    {
        Assert.Equal(
            EventIdentity.For("msg_123", "call_123", "call.completed", At("2026-05-29T12:10:00Z")),
            EventIdentity.For("msg_123", "call_999", "call.ringing", At("2026-05-30T00:00:00Z")));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Identity_without_a_webhook_id_is_the_same_for_the_same_instant_in_different_offsets(string? webhookId)
    {
        var utc = EventIdentity.For(webhookId, "call_123", "call.completed", At("2026-05-29T12:10:00Z"));
        var plusTwo = EventIdentity.For(webhookId, "call_123", "call.completed", At("2026-05-29T14:10:00+02:00"));
        var plusZero = EventIdentity.For(webhookId, "call_123", "call.completed", At("2026-05-29T12:10:00+00:00"));

        Assert.Equal(utc, plusTwo);
        Assert.Equal(utc, plusZero);
        Assert.False(utc.StartsWith("id:", StringComparison.Ordinal));
    }

    [Fact]
    public void Identity_without_a_webhook_id_is_the_same_for_an_offset_given_directly_rather_than_parsed()
    {
        Assert.Equal(
            EventIdentity.For(null, "call_123", "call.completed", new DateTimeOffset(2026, 5, 29, 12, 10, 0, TimeSpan.Zero)),
            EventIdentity.For(null, "call_123", "call.completed", new DateTimeOffset(2026, 5, 29, 14, 10, 0, TimeSpan.FromHours(2))));
    }

    [Theory]
    [InlineData("call_124", "call.completed", "2026-05-29T12:10:00Z")]
    [InlineData("call_123", "call.ringing", "2026-05-29T12:10:00Z")]
    [InlineData("call_123", "call.completed", "2026-05-29T12:10:01Z")]
    [InlineData("call_123", "call.completed", "2026-05-29T12:10:00.0000001Z")]
    [InlineData("call_123", "call.completed", "2026-05-29T12:10:00+02:00")]
    public void Identity_without_a_webhook_id_differs_for_a_different_call_event_or_time(string callId, string eventName, string createdAt)
    {
        var reference = EventIdentity.For(null, "call_123", "call.completed", At("2026-05-29T12:10:00Z"));

        Assert.NotEqual(reference, EventIdentity.For(null, callId, eventName, At(createdAt)));
    }

    [Fact]
    public void Identity_from_a_webhook_id_never_equals_one_from_call_event_and_time()
    {
        var fromFields = EventIdentity.For(null, "call_123", "call.completed", At("2026-05-29T12:10:00Z"));

        // Even a webhook id spelled like a field-based identity stays distinct.
        Assert.NotEqual(fromFields, EventIdentity.For(fromFields, "call_123", "call.completed", At("2026-05-29T12:10:00Z")));
    }
}
