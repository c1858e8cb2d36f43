using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Tests.Webhooks;

public sealed class JsonContentTypeTests
{
    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("application/json;charset=UTF-8")]
    [InlineData("Application/JSON")]
    [InlineData("application/cloudevents+json")]
    [InlineData("application/problem+json; charset=utf-8")]
    public void Json_media_type_in_utf8_or_without_charset_is_json(string contentType)
    {
        Assert.True(JsonContentType.IsJson(contentType));
    }

    [Fact]
    public void Json_with_a_quoted_utf8_charset_is_json()
    {
        // RFC 9110 §8.3.2: charset="utf-8" and charset=utf-8 are equivalent.
        Assert.True(JsonContentType.IsJson("application/json; charset=\"utf-8\""));
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("text/json")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("application/jsonp")]
    [InlineData("text/plain+json")]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("json")]
    [InlineData("application/json; charset=latin1")]
    [InlineData("application/json; charset=iso-8859-1")]
    [InlineData("application/json; charset=utf-16")]
    public void Other_media_types_and_non_utf8_json_are_not_json(string? contentType)
    {
        Assert.False(JsonContentType.IsJson(contentType));
    }
}
