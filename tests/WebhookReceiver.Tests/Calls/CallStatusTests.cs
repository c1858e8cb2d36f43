using CsCheck;
using WebhookReceiver.Calls;

namespace WebhookReceiver.Tests.Calls;

public sealed class CallStatusTests
{
    private static readonly string[] FinalStatuses = ["completed", "failed", "busy", "no-answer", "canceled"];
    private static readonly string[] OngoingStatuses = ["queued", "initiated", "dialing", "ringing", "answered", "in-progress"];

    [Theory]
    [InlineData("no_answer", "no-answer")]
    [InlineData("No_Answer", "no-answer")]
    [InlineData("COMPLETED", "completed")]
    [InlineData("completed", "completed")]
    [InlineData("In_Progress", "in-progress")]
    [InlineData(" ringing ", "ringing")]
    public void Known_status_is_normalised_to_its_canonical_form(string sent, string canonical)
    {
        Assert.Equal(canonical, CallStatus.Normalize(sent));
    }

    [Theory]
    [InlineData("On_Hold")]
    [InlineData("on_hold")]
    [InlineData("TRANSFERRED")]
    public void Unknown_status_is_kept_exactly_as_sent(string sent)
    {
        Assert.Equal(sent, CallStatus.Normalize(sent));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t")]
    public void Null_or_blank_status_normalises_to_null(string? sent)
    {
        Assert.Null(CallStatus.Normalize(sent));
    }

    [Theory]
    [InlineData("completed")]
    [InlineData("failed")]
    [InlineData("busy")]
    [InlineData("no-answer")]
    [InlineData("no_answer")]
    [InlineData("canceled")]
    [InlineData("Canceled")]
    [InlineData("NO_ANSWER")]
    public void Final_status_in_any_spelling_is_final(string status)
    {
        Assert.True(CallStatus.IsFinal(status));
    }

    [Theory]
    [InlineData("ringing")]
    [InlineData("in-progress")]
    [InlineData("in_progress")]
    [InlineData("dialing")]
    [InlineData("queued")]
    [InlineData("on_hold")]
    [InlineData("")]
    [InlineData(null)]
    public void Ongoing_unknown_or_missing_status_is_not_final(string? status)
    {
        Assert.False(CallStatus.IsFinal(status));
    }

    /// <summary>One of <paramref name="statuses"/>, each letter's case and each separator chosen by a random bit.</summary>
    private static Gen<string> Respelled(string[] statuses) =>
        Gen.Select(Gen.OneOf(statuses), Gen.ULong, (status, bits) =>
        {
            var chars = status.ToCharArray();
            for (var i = 0; i < chars.Length; i++)
            {
                var flip = ((bits >> (i % 64)) & 1) == 1;
                chars[i] = chars[i] switch
                {
                    '-' or '_' => flip ? '_' : '-',
                    var c when flip => char.ToUpperInvariant(c),
                    var c => c,
                };
            }
            return new string(chars);
        });

    [Fact]
    public void Any_spelling_of_a_final_status_is_final_and_agrees_with_its_upper_case_underscore_form()
    {
        Respelled(FinalStatuses).Sample(s =>
        {
            Assert.True(CallStatus.IsFinal(s), s);
            Assert.Equal(CallStatus.IsFinal(s), CallStatus.IsFinal(s.ToUpperInvariant().Replace('-', '_')));
        });
    }

    [Fact]
    public void Any_spelling_of_an_ongoing_status_is_not_final_and_normalises_to_the_canonical_form()
    {
        Respelled(OngoingStatuses).Sample(s =>
        {
            Assert.False(CallStatus.IsFinal(s), s);
            Assert.Contains(CallStatus.Normalize(s), OngoingStatuses);
        });
    }

    [Fact]
    public void Any_spelling_of_a_final_status_normalises_to_one_that_is_final()
    {
        Respelled(FinalStatuses).Sample(s =>
        {
            var normalised = CallStatus.Normalize(s);
            Assert.Contains(normalised, FinalStatuses);
            Assert.True(CallStatus.IsFinal(normalised));
        });
    }
}
