using System.Text;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Webhooks;

public sealed class BasicCredentialsTests
{
    private static readonly BasicCredentials Credentials = new("minivoice", "s3cret-pass");

    private static string Basic(string userColonPass) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(userColonPass));

    [Fact]
    public void Right_user_and_password_match()
    {
        Assert.True(Credentials.Matches(Basic("minivoice:s3cret-pass")));
    }

    [Fact]
    public void Scheme_name_is_case_insensitive()
    {
        Assert.True(Credentials.Matches("basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("minivoice:s3cret-pass"))));
    }

    [Theory]
    [InlineData("minivoice:wrong")]
    [InlineData("minivoice:s3cret-pas")]
    [InlineData("minivoice:s3cret-pass ")]
    [InlineData("minivoice:")]
    [InlineData("other:s3cret-pass")]
    [InlineData("MiniVoice:s3cret-pass")]
    [InlineData(":s3cret-pass")]
    public void Wrong_user_or_password_does_not_match(string userColonPass)
    {
        Assert.False(Credentials.Matches(Basic(userColonPass)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Basic")]
    [InlineData("Basic !!!not-base64!!!")]
    [InlineData("Basic bWluaXZvaWNl")] // "minivoice", no colon
    [InlineData("Bearer bWluaXZvaWNlOnMzY3JldC1wYXNz")] // right credentials under another scheme
    [InlineData("bWluaXZvaWNlOnMzY3JldC1wYXNz")]
    public void Missing_or_malformed_header_does_not_match(string? header)
    {
        Assert.False(Credentials.Matches(header));
    }

    [Fact]
    public void Header_values_used_in_the_malformed_cases_are_built_from_the_right_credentials()
    {
        // Guards the theory above: the Bearer case would match if it were Basic.
        Assert.True(Credentials.Matches("Basic bWluaXZvaWNlOnMzY3JldC1wYXNz"));
    }

    [Fact]
    public void Password_containing_colons_matches_whole()
    {
        var credentials = new BasicCredentials("minivoice", "a:b:c");

        Assert.True(credentials.Matches(Basic("minivoice:a:b:c")));
        Assert.False(credentials.Matches(Basic("minivoice:a:b")));
        Assert.False(credentials.Matches(Basic("minivoice:a")));
    }

    [Fact]
    public void Non_ascii_credentials_match_as_utf8()
    {
        var credentials = new BasicCredentials("zoë", "pässwörd");

        Assert.True(credentials.Matches(Basic("zoë:pässwörd")));
        Assert.False(credentials.Matches(Basic("zoe:passwort")));
    }
}
