namespace WebhookReceiver.Data;

/// <summary>
/// The one rule for text that goes to PostgreSQL: it holds no NUL character (U+0000), which PostgreSQL refuses in
/// text and jsonb, and no lone UTF-16 surrogate, which Npgsql's strict UTF-8 encoder refuses before sending. A
/// search parameter that breaks it is the caller's mistake (a 400 naming the parameter); text we record on our own
/// account, such as a receipt's call ID, is repaired instead, so one odd value cannot sink the rows written with it.
/// </summary>
internal static class PostgresText
{
    public const string Refusal = "must not contain a NUL character (U+0000) or other text PostgreSQL cannot store";

    public static bool CanStore(ReadOnlySpan<char> text) => FirstUnstorable(text) < 0;

    /// <summary>The text with every unstorable character replaced by U+FFFD (the same instance when there is none).</summary>
    public static string? Storable(string? text)
    {
        var first = text is null ? -1 : FirstUnstorable(text);
        if (first < 0)
        {
            return text;
        }
        var chars = text!.ToCharArray();
        for (var i = first; i < chars.Length; i++)
        {
            if (IsUnstorableAt(chars, i))
            {
                chars[i] = '\uFFFD';
            }
            else if (char.IsHighSurrogate(chars[i]))
            {
                i++; // a whole pair: skip its low half
            }
        }
        return new string(chars);
    }

    /// <summary>Names each of these query parameters that breaks the rule in <paramref name="errors"/> (for a 400).</summary>
    public static void CheckQuery(IQueryCollection query, Dictionary<string, string[]> errors, params ReadOnlySpan<string> names)
    {
        foreach (var name in names)
        {
            foreach (var value in query[name])
            {
                if (value is not null && !CanStore(value))
                {
                    errors[name] = [Refusal];
                }
            }
        }
    }

    private static int FirstUnstorable(ReadOnlySpan<char> text)
    {
        // Fast path: ordinary text has neither NUL nor anything from the surrogate range up.
        var start = text.IndexOfAnyExceptInRange('\u0001', '\uD7FF');
        if (start < 0)
        {
            return -1;
        }
        for (var i = start; i < text.Length; i++)
        {
            if (IsUnstorableAt(text, i))
            {
                return i;
            }
            if (char.IsHighSurrogate(text[i]))
            {
                i++;
            }
        }
        return -1;
    }

    /// <summary>Whether the character at <paramref name="i"/> cannot be stored; the high half of a well-formed pair can.</summary>
    private static bool IsUnstorableAt(ReadOnlySpan<char> text, int i) => text[i] switch
    {
        '\0' => true,
        var c when char.IsHighSurrogate(c) => i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]),
        var c => char.IsLowSurrogate(c),
    };
}
