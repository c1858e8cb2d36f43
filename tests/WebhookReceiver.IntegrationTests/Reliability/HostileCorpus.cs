using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Reliability;

/// <summary>One bad request and the exact 4xx the contract gives it.</summary>
/// <param name="Authenticated">The request carries valid credentials, so a 400 for it is quarantined.</param>
internal sealed record HostileCase(string Name, HttpStatusCode Expected, bool Authenticated, Func<ReceiverFactory, HttpRequestMessage> Build)
{
    public override string ToString() => Name;
}

/// <summary>A hostile-looking request that is otherwise valid: accepted and stored exactly as sent.</summary>
internal sealed record AcceptedCase(string Name, Func<AcceptedRequest> Build)
{
    public override string ToString() => Name;
}

/// <param name="Stored">Reads of what was stored (SQL, arguments) and the exact text each must give.</param>
internal sealed record AcceptedRequest(
    string CallId, byte[] Body, string WebhookId, string ContentType, IReadOnlyList<(string Sql, object[] Args, string Expected)> Stored);

/// <summary>
/// The hostile-input corpus of <see cref="HostileInputTests"/>. Bodies are built per request (fresh call IDs)
/// and, unless a case is about authentication, signed with the fixture's secret so that the body check is
/// what is tested. Order of checks (README): declared length → content type → capped read → authentication
/// → JSON parse → validation → store.
/// </summary>
internal static class HostileCorpus
{
    public const int MaxBodyBytes = 262_144;
    public const string Sql = "'; DROP TABLE calls; --";
    public const string Script = "<script>alert(1)</script>";

    private static readonly DateTimeOffset T0 = new(2026, 5, 29, 12, 0, 0, TimeSpan.Zero);
    private const string Placeholder = "@@RAW_JSON_PLACEHOLDER@@";

    // Hostile characters are sent as themselves, not as \u003C escapes.
    private static readonly JsonSerializerOptions Raw = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IReadOnlyList<HostileCase> Bad { get; } = BuildBad();
    public static IReadOnlyList<AcceptedCase> Accepted { get; } = BuildAccepted();

    public static HostileCase BadCase(string name) => Bad.Single(c => c.Name == name);
    public static AcceptedCase AcceptedCaseNamed(string name) => Accepted.Single(c => c.Name == name);

    private static List<HostileCase> BuildBad()
    {
        var cases = new List<HostileCase>();
        void Body(string name, Func<byte[]> body) =>
            cases.Add(new(name, HttpStatusCode.BadRequest, true, app => Signed(app, body())));
        void Case(string name, HttpStatusCode expected, bool authenticated, Func<ReceiverFactory, HttpRequestMessage> build) =>
            cases.Add(new(name, expected, authenticated, build));

        // --- Malformed and truncated JSON ------------------------------------------------------------------
        Body("truncated mid-object", () => Utf8(ValidText()[..40]));
        Body("truncated mid-string", () => Utf8("{\"event\":\"call.comp"));
        Body("truncated after the last comma", () => Utf8(ValidText()[..^1] + ","));
        Body("unquoted property names", () => Utf8("{event:\"call.completed\",created_at:\"2026-05-29T12:00:00Z\",call:{id:\"c1\"}}"));
        Body("single-quoted strings", () => Utf8("{'event':'call.completed','created_at':'2026-05-29T12:00:00Z','call':{'id':'c1'}}"));
        Body("trailing comma in an object", () => Utf8(ValidText()[..^1] + ",}"));
        Body("a comment before the object", () => Utf8("// MiniVoice\n" + ValidText()));
        Body("two top-level objects", () => Utf8(ValidText() + ValidText()));
        Body("plain text", () => Utf8("event=call.completed&call_id=c1"));
        Body("a lone opening brace", () => Utf8("{"));
        Body("a raw tab inside a string", () => Put("call.customer_id", "\"cust\t123\""));
        Body("NaN as a value", () => Put("data", "{\"score\":NaN}"));
        Body("Infinity as a value", () => Put("data", "{\"score\":Infinity}"));
        Body("empty body", () => []);
        Body("whitespace-only body", () => Utf8(" \r\n\t "));
        Body("body null", () => Utf8("null"));
        Body("body []", () => Utf8("[]"));
        Body("body a string", () => Utf8("\"call.completed\""));
        Body("body a number", () => Utf8("42"));
        Body("body true", () => Utf8("true"));
        Body("body {} (every required field missing)", () => Utf8("{}"));
        Body("body an array holding a valid event", () => Utf8("[" + ValidText() + "]"));

        // --- Wrong JSON types for every field ----------------------------------------------------------------
        string[] stringFields =
            ["event", "created_at", "call.id", "call.customer_id", "call.application_id", "call.status", "call.direction", "call.from", "call.to", "variables.order"];
        (string Name, string Json)[] notStrings = [("number", "42"), ("boolean", "true"), ("object", "{\"v\":\"x\"}"), ("array", "[\"x\"]")];
        foreach (var field in stringFields)
        {
            foreach (var (kind, json) in notStrings)
            {
                Body($"{field} as {kind}", () => Put(field, json));
            }
        }
        string[] objectFields = ["call", "variables", "data"];
        (string Name, string Json)[] notObjects = [("string", "\"x\""), ("number", "42"), ("boolean", "false"), ("array", "[{}]")];
        foreach (var field in objectFields)
        {
            foreach (var (kind, json) in notObjects)
            {
                Body($"{field} as {kind}", () => Put(field, json));
            }
        }

        // --- Nulls where a value is required -------------------------------------------------------------------
        foreach (var field in new[] { "event", "created_at", "call", "call.id" })
        {
            Body($"{field} null", () => Put(field, "null"));
        }
        Body("every top-level field null", () => Utf8("{\"event\":null,\"created_at\":null,\"call\":null,\"variables\":null,\"data\":null}"));
        Body("every call field null", () => Put("call",
            "{\"id\":null,\"customer_id\":null,\"application_id\":null,\"status\":null,\"direction\":null,\"from\":null,\"to\":null}"));

        // --- Deep nesting (the parser stops at depth 64) ------------------------------------------------------
        Body("data nested 100 objects deep", () => Put("data", Nested(100, objects: true)));
        Body("data nested 10 000 arrays deep", () => Put("data", Nested(10_000, objects: false)));
        Body("body nested 10 000 objects deep", () => Utf8(Nested(10_000, objects: true)));

        // --- Huge numbers -----------------------------------------------------------------------------------------
        var hundredDigits = "1" + new string('7', 99);
        Body("event 1e400", () => Put("event", "1e400"));
        Body("call.id a 100-digit integer", () => Put("call.id", hundredDigits));
        Body("created_at a 100-digit integer", () => Put("created_at", hundredDigits));
        Body("variables.order -1e400", () => Put("variables.order", "-1e400"));
        // Valid JSON, but beyond PostgreSQL's numeric range: the contract's "valid JSON PostgreSQL cannot hold".
        Body("data holding 1e200000 (beyond PostgreSQL numeric)", () => Put("data", "{\"n\":1e200000}"));

        // --- Invalid UTF-8 and unpaired surrogates -----------------------------------------------------------------
        Body("invalid UTF-8 byte 0xFF in event", () => Put("event", Bytes("\"call.", new byte[] { 0xFF }, "\"")));
        Body("invalid UTF-8 byte 0xFF in call.id", () => Put("call.id", Bytes("\"call_", new byte[] { 0xFF }, "\"")));
        Body("invalid UTF-8 byte 0xFE in a variable value", () => Put("variables.order", Bytes("\"A", new byte[] { 0xFE }, "\"")));
        Body("invalid UTF-8 byte 0xFF in a variable name", () => Put("variables", Bytes("{\"ord", new byte[] { 0xFF }, "er\":\"A1\"}")));
        Body("invalid UTF-8 byte 0xFF in a data string", () => Put("data", Bytes("{\"note\":\"x", new byte[] { 0xFF }, "\"}")));
        Body("invalid UTF-8 byte 0xFF between tokens", () => Bytes("{", new byte[] { 0xFF }, ValidText()[1..]));
        Body("overlong UTF-8 encoding in call.customer_id", () => Put("call.customer_id", Bytes("\"cust", new byte[] { 0xC0, 0xAF }, "\"")));
        Body("UTF-8-encoded surrogate in data", () => Put("data", Bytes("{\"note\":\"", new byte[] { 0xED, 0xA0, 0x80 }, "\"}")));
        Body("body cut inside a multi-byte character", () => Bytes("{\"event\":\"", new byte[] { 0xE2, 0x82 }));
        Body("unpaired surrogate escape in event", () => Put("event", "\"call.\\ud800\""));
        Body("unpaired surrogate escape in a variable value", () => Put("variables.order", "\"\\udc00\""));
        Body("unpaired surrogate escape in data", () => Put("data", "{\"note\":\"\\ud800x\"}"));

        // --- Byte order marks ----------------------------------------------------------------------------------------
        Body("two UTF-8 BOMs before a valid event", () => Bytes(new byte[] { 0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF }, ValidText()));
        Body("UTF-16LE body with its BOM", () => [0xFF, 0xFE, .. Encoding.Unicode.GetBytes(ValidText())]);

        // --- Duplicate keys --------------------------------------------------------------------------------------------
        Body("duplicate event key", () => Utf8("{\"event\":\"call.failed\"," + ValidText()[1..]));
        Body("duplicate call object", () => Utf8("{\"call\":{\"id\":\"other\"}," + ValidText()[1..]));
        Body("duplicate call.id", () => Put("call", "{\"id\":\"call_a\",\"id\":\"call_b\"}"));
        Body("duplicate variable name", () => Put("variables", "{\"order\":\"A1\",\"order\":null}"));
        Body("duplicate key deep inside data", () => Put("data", "{\"recording\":{\"id\":\"r1\",\"id\":\"r2\"}}"));

        // --- Long strings and webhook-id (under the body limit: validation) -------------------------------------------
        Body("event of 200 000 characters", () => Put("event", Quoted(new string('a', 200_000))));
        Body("call.id of 129 characters", () => Put("call.id", Quoted(new string('c', 129))));
        Body("call.status of 65 characters", () => Put("call.status", Quoted(new string('s', 65))));
        Body("variable name of 129 characters", () => Put("variables", "{" + Quoted(new string('n', 129)) + ":\"v\"}"));
        Body("variable name empty", () => Put("variables", "{\"\":\"v\"}"));
        Body("variable value of 4097 characters", () => Put("variables.order", Quoted(new string('v', 4097))));
        Body("variable value of 4097 astral characters", () => Put("variables.order", Quoted(string.Concat(Enumerable.Repeat("\U0001F600", 4097)))));
        Case("webhook-id of 257 characters", HttpStatusCode.BadRequest, true, app => Signed(app, Utf8(ValidText()), id: new string('w', 257)));

        // --- Bodies over the 262 144-byte limit ----------------------------------------------------------------------
        Case("1 MB string in a variable value (Content-Length over)", HttpStatusCode.RequestEntityTooLarge, true,
            app => Signed(app, Put("variables.order", Quoted(new string('x', 1 << 20)))));
        Case("1 MB string in event (Content-Length over)", HttpStatusCode.RequestEntityTooLarge, true,
            app => Signed(app, Put("event", Quoted(new string('e', 1 << 20)))));
        Case("one byte over the limit without credentials (length is checked first)", HttpStatusCode.RequestEntityTooLarge, false,
            _ => Unauthenticated(PadTo(ValidText(), MaxBodyBytes + 1)));
        Case("over the limit with a wrong Content-Type (length is checked first)", HttpStatusCode.RequestEntityTooLarge, true,
            app => Signed(app, PadTo(ValidText(), MaxBodyBytes + 10), contentType: "text/plain"));
        Case("chunked body one byte over the limit, signed", HttpStatusCode.RequestEntityTooLarge, true,
            app => Chunked(app, PadTo(ValidText(), MaxBodyBytes + 1), sign: true));
        Case("chunked 1 MB body without credentials", HttpStatusCode.RequestEntityTooLarge, false,
            app => Chunked(app, PadTo(ValidText(), 1 << 20), sign: false));

        // --- SQL- and script-looking strings where the format is strict --------------------------------------------------
        foreach (var (label, text) in new[] { ("SQL", Sql), ("script", Script) })
        {
            foreach (var field in new[] { "event", "created_at", "call.direction", "call.from", "call.to" })
            {
                Body($"{label} in {field}", () => Put(field, Quoted(text)));
            }
        }

        // --- \u0000 (valid JSON that PostgreSQL's jsonb cannot hold, or that the formats refuse) ---------------------------
        Body("\\u0000 in a data string", () => Put("data", "{\"note\":\"a\\u0000b\"}"));
        Body("\\u0000 in call.id", () => Put("call.id", "\"call_\\u0000x\""));
        Body("\\u0000 in a variable name", () => Put("variables", "{\"or\\u0000der\":\"A1\"}"));
        Body("\\u0000 in event", () => Put("event", "\"call.\\u0000\""));
        Body("\\u0000 in an unknown property name", () => Utf8("{\"x\\u0000\":1," + ValidText()[1..]));

        // --- Other bad values ------------------------------------------------------------------------------------------------
        Body("created_at without an offset", () => Put("created_at", "\"2026-05-29T12:00:00\""));
        Body("created_at month 13", () => Put("created_at", "\"2026-13-01T12:00:00Z\""));
        Body("created_at as Unix seconds in a string", () => Put("created_at", "\"1780056000\""));
        Body("call.from with letters", () => Put("call.from", "\"+1555CALLME\""));
        Body("call.direction upper case", () => Put("call.direction", "\"INBOUND\""));
        Body("event with upper case", () => Put("event", "\"Call.Completed\""));
        Body("event of 65 characters", () => Put("event", Quoted("a" + new string('b', 64))));
        Body("call.id empty", () => Put("call.id", "\"\""));

        // --- Content-Type ------------------------------------------------------------------------------------------------------
        foreach (var type in new[] { null, "text/plain", "application/xml", "text/json", "application/jsonp", "application/x-ndjson",
                     "multipart/form-data; boundary=x", "application/json; charset=iso-8859-1", "application/json; charset=utf-16",
                     "*/*", "json", "application/json, text/plain" })
        {
            Case($"Content-Type {type ?? "missing"}", HttpStatusCode.UnsupportedMediaType, true,
                app => Signed(app, Utf8(ValidText()), contentType: type));
        }

        // --- Authentication -----------------------------------------------------------------------------------------------------
        Case("no credentials at all", HttpStatusCode.Unauthorized, false, _ => Unauthenticated(Utf8(ValidText())));
        Case("no credentials and a malformed body (strangers cannot fill the quarantine)", HttpStatusCode.Unauthorized, false,
            _ => Unauthenticated(Utf8("{\"event\":")));
        Case("signature from an unknown secret", HttpStatusCode.Unauthorized, false,
            app => Signed(app, Utf8(ValidText()), secret: StandardWebhookSigner.NewSecret()));
        Case("signature not base64", HttpStatusCode.Unauthorized, false,
            app => Signed(app, Utf8(ValidText()), signature: (_, _, _) => "v1,not*base64*at*all"));
        Case("valid signature under the v2 scheme", HttpStatusCode.Unauthorized, false,
            app => Signed(app, Utf8(ValidText()), signature: (id, ts, body) => "v2," + StandardWebhookSigner.Sign(app.Secret, id, ts, body)[3..]));
        Case("valid signature without the v1 prefix", HttpStatusCode.Unauthorized, false,
            app => Signed(app, Utf8(ValidText()), signature: (id, ts, body) => StandardWebhookSigner.Sign(app.Secret, id, ts, body)[3..]));
        Case("signature truncated by 4 characters", HttpStatusCode.Unauthorized, false,
            app => Signed(app, Utf8(ValidText()), signature: (id, ts, body) => StandardWebhookSigner.Sign(app.Secret, id, ts, body)[..^4]));
        Case("signature made for another webhook-id", HttpStatusCode.Unauthorized, false,
            app => Signed(app, Utf8(ValidText()), signature: (_, ts, body) => StandardWebhookSigner.Sign(app.Secret, "msg_other", ts, body)));
        Case("replayed signature with a different body", HttpStatusCode.Unauthorized, false,
            app => Signed(app, Utf8(ValidText()), signature: (id, ts, _) => StandardWebhookSigner.Sign(app.Secret, id, ts, Utf8(ValidText()))));
        Case("signature of the body with one byte changed", HttpStatusCode.Unauthorized, false, app =>
        {
            var body = Utf8(ValidText());
            return Signed(app, body, signature: (id, ts, b) => StandardWebhookSigner.Sign(app.Secret, id, ts, [.. b[..^1], (byte)' ', b[^1]]));
        });
        Case("500 forged v1 signatures in one header", HttpStatusCode.Unauthorized, false,
            app => Signed(app, Utf8(ValidText()), signature: (_, _, _) => string.Join(' ', Enumerable.Range(0, 500)
                .Select(i => "v1," + Convert.ToBase64String(BitConverter.GetBytes((long)i).Concat(new byte[24]).ToArray())))));
        Case("timestamp 10 minutes old", HttpStatusCode.Unauthorized, false,
            app => Signed(app, Utf8(ValidText()), ts: DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds()));
        Case("timestamp 10 minutes in the future", HttpStatusCode.Unauthorized, false,
            app => Signed(app, Utf8(ValidText()), ts: DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds()));
        Case("timestamp in milliseconds", HttpStatusCode.Unauthorized, false,
            app => Signed(app, Utf8(ValidText()), ts: DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        Case("timestamp long.MaxValue", HttpStatusCode.Unauthorized, false,
            app => Signed(app, Utf8(ValidText()), ts: long.MaxValue));
        Case("timestamp not a number", HttpStatusCode.Unauthorized, false, app => Signed(app, Utf8(ValidText()), timestampHeader: "yesterday"));
        Case("timestamp as an ISO date", HttpStatusCode.Unauthorized, false,
            app => Signed(app, Utf8(ValidText()), timestampHeader: DateTimeOffset.UtcNow.ToString("O")));
        Case("timestamp with a sign", HttpStatusCode.Unauthorized, false,
            app => Signed(app, Utf8(ValidText()), timestampHeader: "+" + DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        foreach (var header in new[] { "webhook-id", "webhook-timestamp", "webhook-signature" })
        {
            Case($"{header} header missing", HttpStatusCode.Unauthorized, false, app => Signed(app, Utf8(ValidText()), omit: header));
        }
        Case("webhook-signature header empty", HttpStatusCode.Unauthorized, false,
            app => Signed(app, Utf8(ValidText()), signature: (_, _, _) => ""));
        Case("svix-* headers with a forged signature", HttpStatusCode.Unauthorized, false,
            app => Signed(app, Utf8(ValidText()), secret: StandardWebhookSigner.NewSecret(), headerPrefix: "svix-"));
        Case("Basic auth with a wrong password", HttpStatusCode.Unauthorized, false,
            _ => WithAuthorization(Utf8(ValidText()), ReceiverFactory.BasicHeader(ReceiverFactory.BasicUser, "wrong-password")));
        Case("Basic auth with a wrong user", HttpStatusCode.Unauthorized, false,
            _ => WithAuthorization(Utf8(ValidText()), ReceiverFactory.BasicHeader("admin", ReceiverFactory.BasicPassword)));
        Case("Basic auth with the password plus a trailing space", HttpStatusCode.Unauthorized, false,
            _ => WithAuthorization(Utf8(ValidText()), ReceiverFactory.BasicHeader(ReceiverFactory.BasicUser, ReceiverFactory.BasicPassword + " ")));
        Case("Basic auth with an empty password", HttpStatusCode.Unauthorized, false,
            _ => WithAuthorization(Utf8(ValidText()), ReceiverFactory.BasicHeader(ReceiverFactory.BasicUser, "")));
        Case("Basic auth that is not base64", HttpStatusCode.Unauthorized, false,
            _ => WithAuthorization(Utf8(ValidText()), new AuthenticationHeaderValue("Basic", "%%%not-base64%%%")));
        Case("Basic auth without a colon", HttpStatusCode.Unauthorized, false, _ => WithAuthorization(Utf8(ValidText()),
            new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(ReceiverFactory.BasicUser + ReceiverFactory.BasicPassword)))));
        Case("Bearer scheme carrying the Basic password", HttpStatusCode.Unauthorized, false,
            _ => WithAuthorization(Utf8(ValidText()), new AuthenticationHeaderValue("Bearer", ReceiverFactory.BasicPassword)));

        return cases;
    }

    private static List<AcceptedCase> BuildAccepted()
    {
        var cases = new List<AcceptedCase>();
        void Accept(string name, Func<AcceptedRequest> build) => cases.Add(new(name, build));

        const string CallById = "SELECT id FROM calls WHERE id = $1";
        foreach (var (label, text) in new[] { ("SQL", Sql), ("script", Script) })
        {
            Accept($"{label} in call.id", () =>
            {
                var callId = $"{text} {Guid.NewGuid():N}";
                var body = Event(callId, e => { });
                return Signed(callId, body, [(CallById, [callId], callId)]);
            });
            Accept($"{label} in call.customer_id and call.application_id", () =>
            {
                var callId = MiniVoiceEvents.NewCallId();
                var body = Event(callId, e => { e["call"]!["customer_id"] = text; e["call"]!["application_id"] = text + "_app"; });
                return Signed(callId, body,
                [
                    ("SELECT customer_id FROM calls WHERE id = $1", [callId], text),
                    ("SELECT application_id FROM calls WHERE id = $1", [callId], text + "_app"),
                ]);
            });
            Accept($"{label} as an unknown call.status", () =>
            {
                var callId = MiniVoiceEvents.NewCallId();
                var body = Event(callId, e => e["call"]!["status"] = text);
                return Signed(callId, body,
                [
                    ("SELECT status FROM calls WHERE id = $1", [callId], text),
                    ("SELECT status FROM webhook_events WHERE call_id = $1", [callId], text),
                ]);
            });
            Accept($"{label} as a variable name and value", () =>
            {
                var callId = MiniVoiceEvents.NewCallId();
                var body = Event(callId, e => e["variables"] = new JsonObject { [text] = text, ["plain"] = text });
                return Signed(callId, body,
                [
                    ("SELECT variables ->> $2 FROM calls WHERE id = $1", [callId, text], text),
                    ("SELECT variables ->> 'plain' FROM calls WHERE id = $1", [callId], text),
                ]);
            });
            Accept($"{label} in data and in an unknown property", () =>
            {
                var callId = MiniVoiceEvents.NewCallId();
                var body = Event(callId, e => { e["data"] = new JsonObject { ["note"] = text }; e["x_" + label] = text; });
                return Signed(callId, body,
                [
                    ("SELECT body -> 'data' ->> 'note' FROM webhook_events WHERE call_id = $1", [callId], text),
                    ("SELECT body ->> $2 FROM webhook_events WHERE call_id = $1", [callId, "x_" + label], text),
                ]);
            });
            Accept($"{label} in the webhook-id header", () =>
            {
                var callId = MiniVoiceEvents.NewCallId();
                var webhookId = $"{text} {Guid.NewGuid():N}";
                return new AcceptedRequest(callId, Event(callId, e => { }), webhookId, "application/json",
                    [("SELECT webhook_id FROM webhook_events WHERE call_id = $1", [callId], webhookId)]);
            });
        }
        Accept("SQL in every free-text field at once", () =>
        {
            var callId = $"{Sql}{Guid.NewGuid():N}";
            var body = Event(callId, e =>
            {
                e["call"]!["customer_id"] = Sql;
                e["call"]!["application_id"] = Sql;
                e["call"]!["status"] = Sql;
                e["variables"] = new JsonObject { [Sql] = Sql };
                e["data"] = new JsonObject { [Sql] = Sql, ["recording"] = new JsonObject { ["url"] = Sql } };
            });
            return Signed(callId, body,
            [
                ("SELECT customer_id || '|' || application_id || '|' || status FROM calls WHERE id = $1", [callId], $"{Sql}|{Sql}|{Sql}"),
                ("SELECT recordings -> 0 ->> 'url' FROM calls WHERE id = $1", [callId], Sql),
            ]);
        });
        Accept("optional fields explicitly null", () =>
        {
            var callId = MiniVoiceEvents.NewCallId();
            var body = Utf8($$"""{"event":"call.ringing","created_at":"2026-05-29T12:00:00Z","call":{"id":"{{callId}}","customer_id":null,"application_id":null,"status":null,"direction":null,"from":null,"to":null},"variables":null,"data":null}""");
            return Signed(callId, body,
            [
                ("SELECT coalesce(status, 'NULL') || coalesce(direction, 'NULL') || coalesce(from_number, 'NULL') FROM calls WHERE id = $1", [callId], "NULLNULLNULL"),
                ("SELECT variables::text FROM calls WHERE id = $1", [callId], "{}"),
            ]);
        });
        Accept("1e400 and a 100-digit integer in data", () =>
        {
            var callId = MiniVoiceEvents.NewCallId();
            var digits = "1" + new string('7', 99);
            var body = Put(Event(callId, e => { }), "data", Utf8($"{{\"huge\":1e400,\"digits\":{digits},\"tiny\":-1e-400}}"));
            return Signed(callId, body,
            [
                ("SELECT body -> 'data' ->> 'digits' FROM webhook_events WHERE call_id = $1", [callId], digits),
                ("SELECT ((body -> 'data' ->> 'huge')::numeric = 1e400)::text FROM webhook_events WHERE call_id = $1", [callId], "true"),
            ]);
        });
        Accept("a variable value of 4096 astral characters (counted as characters)", () =>
        {
            var callId = MiniVoiceEvents.NewCallId();
            var value = string.Concat(Enumerable.Repeat("\U0001F600", 4096));
            var body = Event(callId, e => e["variables"] = new JsonObject { ["emoji"] = value });
            return Signed(callId, body, [("SELECT variables ->> 'emoji' FROM calls WHERE id = $1", [callId], value)]);
        });
        Accept("bidi override, zero-width and combining characters", () =>
        {
            var callId = MiniVoiceEvents.NewCallId();
            const string value = "\u202Egnp.exe\u200B e\u0301 \uFEFF";
            var body = Event(callId, e => { e["variables"] = new JsonObject { ["v"] = value }; e["call"]!["customer_id"] = value; });
            return Signed(callId, body,
            [
                ("SELECT variables ->> 'v' FROM calls WHERE id = $1", [callId], value),
                ("SELECT customer_id FROM calls WHERE id = $1", [callId], value),
            ]);
        });
        Accept("escaped markup and slashes", () =>
        {
            var callId = MiniVoiceEvents.NewCallId();
            var body = Put(Event(callId, e => { }), "variables", Utf8("{\"html\":\"\\u003cscript\\u003e\\/\\/x\\\"\\\\\"}"));
            return Signed(callId, body, [("SELECT variables ->> 'html' FROM calls WHERE id = $1", [callId], "<script>//x\"\\")]);
        });
        Accept("keys differing only in case are not duplicates", () =>
        {
            var callId = MiniVoiceEvents.NewCallId();
            var body = Event(callId, e => { e["Event"] = Script; e["CALL"] = new JsonObject { ["id"] = Sql }; });
            return Signed(callId, body, [("SELECT body ->> 'Event' FROM webhook_events WHERE call_id = $1", [callId], Script)]);
        });
        // RFC 8259 lets a parser ignore one byte order mark; the raw body is still stored byte for byte.
        Accept("UTF-8 BOM before a valid event", () =>
        {
            var callId = MiniVoiceEvents.NewCallId();
            byte[] body = [0xEF, 0xBB, 0xBF, .. Event(callId, e => { })];
            return Signed(callId, body, [(CallById, [callId], callId)]);
        });
        Accept("data 60 levels deep (under the parser's limit)", () =>
        {
            var callId = MiniVoiceEvents.NewCallId();
            var body = Put(Event(callId, e => { }), "data", Utf8(Nested(60, objects: true)));
            return Signed(callId, body, [("SELECT (body #> '{data,a,a,a}' IS NOT NULL)::text FROM webhook_events WHERE call_id = $1", [callId], "true")]);
        });
        Accept("Content-Type application/cloudevents+json with a quoted upper-case UTF-8 charset", () =>
        {
            var callId = MiniVoiceEvents.NewCallId();
            return new AcceptedRequest(callId, Event(callId, e => { }), "msg_" + Guid.NewGuid().ToString("N"),
                "application/cloudevents+json; charset=\"UTF-8\"", [(CallById, [callId], callId)]);
        });
        return cases;
    }

    // ---- Bodies -------------------------------------------------------------------------------------------------------------

    private static string ValidText() => Event(MiniVoiceEvents.NewCallId(), e => { }, bytes: false).Text;

    private static byte[] Event(string callId, Action<JsonObject> edit) => Event(callId, edit, bytes: true).Bytes!;

    private static (string Text, byte[]? Bytes) Event(string callId, Action<JsonObject> edit, bool bytes)
    {
        var node = JsonNode.Parse(MiniVoiceEvents.Event(callId, "call.completed", "completed", T0,
            variables: new { order = "A1" }, data: new { note = "hello" }))!.AsObject();
        edit(node);
        var text = node.ToJsonString(Raw);
        return (text, bytes ? Utf8(text) : null);
    }

    /// <summary>A valid event with the value at <paramref name="path"/> (dot-separated) replaced by raw JSON bytes.</summary>
    private static byte[] Put(string path, string rawJson) => Put(Utf8(ValidText()), path, Utf8(rawJson));

    private static byte[] Put(string path, byte[] rawJson) => Put(Utf8(ValidText()), path, rawJson);

    private static byte[] Put(byte[] body, string path, byte[] rawJson)
    {
        var node = JsonNode.Parse(body)!.AsObject();
        var parts = path.Split('.');
        var parent = node;
        foreach (var part in parts[..^1])
        {
            parent = parent[part]!.AsObject();
        }
        parent[parts[^1]] = Placeholder;
        var text = node.ToJsonString(Raw);
        var at = text.IndexOf('"' + Placeholder + '"', StringComparison.Ordinal);
        return Bytes(text[..at], rawJson, text[(at + Placeholder.Length + 2)..]);
    }

    private static string Nested(int depth, bool objects) => objects
        ? string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth)
        : new string('[', depth) + new string(']', depth);

    private static string Quoted(string text) => JsonSerializer.Serialize(text, Raw);

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Bytes(params object[] parts) => parts.SelectMany(p => p switch
    {
        string s => Utf8(s),
        byte[] b => b,
        _ => throw new ArgumentException("string or byte[] expected", nameof(parts)),
    }).ToArray();

    /// <summary>Pads a valid event with an unknown property to exactly <paramref name="size"/> bytes.</summary>
    private static byte[] PadTo(string json, int size)
    {
        var head = json[..^1] + ",\"padding\":\"";
        return Utf8(head + new string('x', size - Encoding.UTF8.GetByteCount(head) - 2) + "\"}");
    }

    // ---- Requests -------------------------------------------------------------------------------------------------------------

    private static AcceptedRequest Signed(string callId, byte[] body, IReadOnlyList<(string, object[], string)> stored) =>
        new(callId, body, "msg_" + Guid.NewGuid().ToString("N"), "application/json", stored);

    /// <summary>
    /// A Standard Webhooks request signed with the fixture's secret (or <paramref name="secret"/>); the hooks forge or
    /// drop parts of it for the authentication cases.
    /// </summary>
    public static HttpRequestMessage Signed(ReceiverFactory app, byte[] body, string? contentType = "application/json",
        string? id = null, long? ts = null, string? secret = null, Func<string, long, byte[], string>? signature = null,
        string? timestampHeader = null, string? omit = null, string headerPrefix = "webhook-")
    {
        var webhookId = id ?? "msg_" + Guid.NewGuid().ToString("N");
        var timestamp = ts ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/minivoice") { Content = new ByteArrayContent(body) };
        SetContentType(request.Content, contentType);
        var headers = new Dictionary<string, string>
        {
            ["id"] = webhookId,
            ["timestamp"] = timestampHeader ?? timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["signature"] = signature?.Invoke(webhookId, timestamp, body) ?? StandardWebhookSigner.Sign(secret ?? app.Secret, webhookId, timestamp, body),
        };
        foreach (var (name, value) in headers)
        {
            if (headerPrefix + name != omit)
            {
                request.Headers.TryAddWithoutValidation(headerPrefix + name, value);
            }
        }
        return request;
    }

    public static HttpRequestMessage SignedAccepted(ReceiverFactory app, AcceptedRequest accepted)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/minivoice") { Content = new ByteArrayContent(accepted.Body) };
        SetContentType(request.Content, accepted.ContentType);
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        request.Headers.TryAddWithoutValidation("webhook-id", accepted.WebhookId);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", ts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("webhook-signature", StandardWebhookSigner.Sign(app.Secret, accepted.WebhookId, ts, accepted.Body));
        return request;
    }

    private static HttpRequestMessage Unauthenticated(byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/minivoice") { Content = new ByteArrayContent(body) };
        SetContentType(request.Content, "application/json");
        return request;
    }

    private static HttpRequestMessage WithAuthorization(byte[] body, AuthenticationHeaderValue authorization)
    {
        var request = Unauthenticated(body);
        request.Headers.Authorization = authorization;
        return request;
    }

    private static HttpRequestMessage Chunked(ReceiverFactory app, byte[] body, bool sign)
    {
        var request = sign ? Signed(app, body) : Unauthenticated(body);
        var content = new StreamContent(new MemoryStream(body)); // no length known: sent chunked
        SetContentType(content, "application/json");
        request.Content = content;
        request.Headers.TransferEncodingChunked = true;
        return request;
    }

    private static void SetContentType(HttpContent content, string? contentType)
    {
        content.Headers.Remove("Content-Type");
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
    }
}
