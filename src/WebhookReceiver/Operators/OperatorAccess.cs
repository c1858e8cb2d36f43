using WebhookReceiver.ApiDocs;
using System.Net;
using Microsoft.Extensions.Options;
using WebhookReceiver.Webhooks;

namespace WebhookReceiver.Operators;

/// <summary>
/// Call records hold phone numbers, so they are never public: with Dashboard credentials configured every
/// operator request must carry them (HTTP Basic); without, only requests from this machine are served.
/// </summary>
internal sealed class OperatorAccess(IOptions<DashboardCredentials> options)
{
    private readonly BasicCredentials? _credentials =
        options.Value.IsConfigured ? new BasicCredentials(options.Value.Username!, options.Value.Password!) : null;

    public bool CredentialsRequired => _credentials is not null;

    public bool IsAllowed(HttpContext context) => _credentials is not null
        ? _credentials.Matches(context.Request.Headers.Authorization)
        : IsLocal(context);

    /// <summary>Who is asking, for the audit log: the Basic user name, or "local" when no credentials are configured.</summary>
    public static string Name(HttpContext context)
    {
        // Without configured credentials nothing checks the header: a name taken from it could be anyone's.
        if (context.RequestServices.GetService<OperatorAccess>() is not { CredentialsRequired: true })
        {
            return "local";
        }
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0)
                {
                    return decoded[..colon];
                }
            }
            catch (FormatException)
            {
                // Not base64: fall through.
            }
        }
        return "local";
    }

    private static bool IsLocal(HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress;
        // The in-process test server has no remote address: it is local by construction.
        return remote is null || IPAddress.IsLoopback(remote);
    }
}

/// <summary>Refuses anyone else and writes every operator request to the audit log (who, what, from where).</summary>
internal sealed class OperatorAccessFilter(OperatorAccess access, ILogger<OperatorAccessFilter> audit) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (CrossSite(http.Request))
        {
            // A browser keeps sending Basic credentials to this origin, so a page elsewhere could make an operator's
            // browser retry or replay work (CSRF). Browsers say where a request comes from; anything not from
            // this origin may read nothing and change nothing.
            audit.LogWarning("Cross-site operator request refused: {Method} {Path} from origin {Origin}", http.Request.Method,
                http.Request.Path.Value, http.Request.Headers.Origin.ToString());
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                detail: "Operator endpoints do not accept cross-site requests.");
        }
        if (access.IsAllowed(http))
        {
            audit.LogInformation("Operator {Operator} {Method} {Path}{Query} from {RemoteAddress}", OperatorAccess.Name(http),
                http.Request.Method, http.Request.Path.Value, http.Request.QueryString.Value, http.Connection.RemoteIpAddress);
            return await next(context);
        }
        audit.LogWarning("Operator request refused: {Method} {Path} from {RemoteAddress}", http.Request.Method, http.Request.Path.Value,
            http.Connection.RemoteIpAddress);
        if (access.CredentialsRequired)
        {
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"WebhookReceiver operators\", charset=\"UTF-8\"";
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
        }
        return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
            detail: "Operator endpoints are served to local requests only until Dashboard:Username and Dashboard:Password are configured.");
    }

    /// <summary>
    /// Sec-Fetch-Site (every current browser) or, failing that, an Origin that is not this host. Tools such as
    /// curl send neither and are not affected.
    /// </summary>
    internal static bool CrossSite(HttpRequest request)
    {
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0)
        {
            return site is not ("same-origin" or "none");
        }
        var origin = request.Headers.Origin.ToString();
        return origin.Length > 0 && !(Uri.TryCreate(origin, UriKind.Absolute, out var uri)
                                      && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase));
    }
}

internal static class OperatorAccessExtensions
{
    public static IHostApplicationBuilder AddOperatorAccess(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DashboardCredentials>().BindConfiguration(DashboardCredentials.SectionName);
        builder.Services.AddSingleton<OperatorAccess>();
        return builder;
    }

    public static RouteGroupBuilder RequireOperator(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter<OperatorAccessFilter>();
        // Documented where it is enforced: every operator group shows its HTTP Basic requirement in /openapi/v1.json.
        return group.DocumentOperatorAccess();
    }
}
