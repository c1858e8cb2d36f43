using System.Buffers.Text;
using System.Globalization;
using System.Text;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Calls;

/// <summary>GET /calls parameters, parsed and checked; the cursor is the last item's (activity time, id).</summary>
internal sealed record CallListQuery(
    string? CustomerId, string? Status, DateTime? Since, DateTime? Until, int Limit, (DateTime At, string Id)? After)
{
    /// <summary>stale=true: only stale calls (served by ix_calls_stale); false: only the others; absent: all.</summary>
    public bool? Stale { get; init; }

    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    public static bool TryParse(IQueryCollection q, out CallListQuery query, out Dictionary<string, string[]> errors)
    {
        errors = [];
        var limit = DefaultLimit;
        if (q.TryGetValue("limit", out var l)
            && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            errors["limit"] = [$"must be a whole number from 1 to {MaxLimit}"];
        }
        var since = Time(q, "since", errors);
        var until = Time(q, "until", errors);
        (DateTime, string)? after = null;
        if (q.TryGetValue("cursor", out var c) && !string.IsNullOrEmpty(c))
        {
            after = DecodeCursor(c.ToString());
            if (after is null)
            {
                errors["cursor"] = ["is not a cursor this service issued"];
            }
        }
        bool? stale = null;
        if (q.TryGetValue("stale", out var st) && !string.IsNullOrEmpty(st))
        {
            if (bool.TryParse(st.ToString(), out var b))
            {
                stale = b;
            }
            else
            {
                errors["stale"] = ["must be true or false"];
            }
        }
        Data.PostgresText.CheckQuery(q, errors, "customer_id", "status");
        var status = q["status"].ToString();
        var customer = q["customer_id"].ToString();
        query = new CallListQuery(customer.Length > 0 ? customer : null, status.Length > 0 ? CallStatus.Normalize(status) : null,
            since, until, limit, after) { Stale = stale };
        return errors.Count == 0;
    }

    internal static DateTime? Time(IQueryCollection q, string name, Dictionary<string, string[]> errors)
    {
        if (!q.TryGetValue(name, out var v) || string.IsNullOrEmpty(v))
        {
            return null;
        }
        if (Rfc3339.TryParse(v.ToString(), out var at))
        {
            return at.UtcDateTime;
        }
        errors[name] = ["must be an RFC 3339 date-time, e.g. 2026-05-29T12:10:00Z"];
        return null;
    }

    public static string EncodeCursor(DateTime at, string id) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{at.Ticks.ToString(CultureInfo.InvariantCulture)}|{id}"));

    private static (DateTime, string)? DecodeCursor(string cursor)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            var bar = text.IndexOf('|', StringComparison.Ordinal);
            return bar > 0 && long.TryParse(text[..bar], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                           && ticks is >= 0 and <= 3155378975999999999 && Data.PostgresText.CanStore(text.AsSpan(bar + 1))
                ? (new DateTime(ticks, DateTimeKind.Utc), text[(bar + 1)..])
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
