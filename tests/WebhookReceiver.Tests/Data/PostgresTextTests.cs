using WebhookReceiver.Data;

namespace WebhookReceiver.Tests.Data;

public sealed class PostgresTextTests
{
    [Theory]
    [InlineData("call_123")]
    [InlineData("")]
    [InlineData("Zürich – 東京 \ud83d\ude00")] // a well-formed surrogate pair is text like any other
    [InlineData("\ue000\uffff")] // past the surrogate range
    public void Ordinary_text_is_storable_and_kept_as_it_is(string text)
    {
        Assert.True(PostgresText.CanStore(text));
        Assert.Same(text, PostgresText.Storable(text));
    }

    [Fact]
    public void Text_PostgreSQL_cannot_take_is_refused_and_repaired_with_the_replacement_character()
    {
        // Built here, not as theory data: xUnit's serialisation of theory data would already have replaced lone surrogates.
        var cases = new (string Text, string Repaired)[]
        {
            ("call_\0x", "call_\ufffdx"),
            ("\0\0", "\ufffd\ufffd"),
            ("emoji\ud83d", "emoji\ufffd"), // the high half of a pair, cut off at the end
            ("\ude00emoji", "\ufffdemoji"), // a low half alone
            ("a\ud83d\ud83d\ude00b", "a\ufffd\ud83d\ude00b"), // a lone high half before a whole pair
            ("\ud83d\ude00\0", "\ud83d\ude00\ufffd"),
        };
        foreach (var (text, repaired) in cases)
        {
            Assert.False(PostgresText.CanStore(text), text);
            Assert.Equal(repaired, PostgresText.Storable(text));
            Assert.True(PostgresText.CanStore(PostgresText.Storable(text)), text);
        }
    }

    [Fact]
    public void No_text_stays_no_text() => Assert.Null(PostgresText.Storable(null));
}
