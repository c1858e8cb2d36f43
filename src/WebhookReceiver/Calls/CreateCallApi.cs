using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WebhookReceiver.Data;
using WebhookReceiver.MiniVoice;

namespace WebhookReceiver.Calls;

/// <summary>POST /calls: asks MiniVoice for a call and stores its ID before answering (README "Creating calls").</summary>
internal static class CreateCallApi
{
    // MiniVoice error codes mapped by code, whatever HTTP status MiniVoice used.
    private static readonly Dictionary<string, int> StatusByCode = new(StringComparer.OrdinalIgnoreCase)
    {
        ["insufficient_balance"] = StatusCodes.Status402PaymentRequired,
        ["rate_limited"] = StatusCodes.Status429TooManyRequests,
        // Our key or account is wrong: not the caller's fault, a bad gateway.
        ["invalid_api_key"] = StatusCodes.Status502BadGateway,
        ["unauthorized"] = StatusCodes.Status502BadGateway,
        ["forbidden"] = StatusCodes.Status502BadGateway,
    };

    public static IHostApplicationBuilder AddCallCreation(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<MiniVoiceOptions>().BindConfiguration(MiniVoiceOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidator<CreateCallBody>, CreateCallValidator>();
        builder.Services.AddSingleton<CreatedCallStore>();
        // No resilience handler on purpose: a retried POST /v1/calls could ring someone twice.
        builder.Services.AddHttpClient<MiniVoiceClient>();
        return builder;
    }

    public static async Task<Results<Created<CallSummary>, ValidationProblem, ProblemHttpResult>> CreateCall(
        HttpRequest request, IValidator<CreateCallBody> validator, IOptions<MiniVoiceOptions> options, MiniVoiceClient miniVoice,
        CreatedCallStore store, AppDbContext db, Serilog.IDiagnosticContext diagnostics, CancellationToken cancellationToken)
    {
        CreateCallBody body;
        try
        {
            using var document = await System.Text.Json.JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
            body = CreateCallBody.Read(document.RootElement);
        }
        catch (System.Text.Json.JsonException ex)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"is not valid JSON: {ex.Message}"] },
                title: "The call request is invalid.");
        }
        var validation = await validator.ValidateAsync(body, cancellationToken);
        if (!validation.IsValid)
        {
            return TypedResults.ValidationProblem(validation.ToDictionary(), title: "The call request is invalid.");
        }
        if (!options.Value.IsConfigured)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "MiniVoice is not configured",
                detail: "Set MiniVoice:BaseUrl and MiniVoice:ApiKey.");
        }

        var asked = new CreateCallRequest(body.From!, body.To!, body.Record ?? false);
        // From here on our caller leaving changes nothing: MiniVoice may already be ringing someone, so its answer is
        // awaited (bounded by MiniVoice:TimeoutSeconds) and stored, or a placed call would have no record.
        switch (await miniVoice.CreateCallAsync(asked))
        {
            case CreateCallResult.Created created:
                diagnostics.Set("CallId", created.Call.Id);
                await store.StoreAsync(created.Call, asked);
                var record = await db.Calls.AsNoTracking().FirstAsync(c => c.Id == created.Call.Id, CancellationToken.None);
                return TypedResults.Created($"/calls/{Uri.EscapeDataString(record.Id)}", CallSummary.Of(record));
            case CreateCallResult.Refused refused:
                return Refused(refused);
            case CreateCallResult.TimedOut:
                return TypedResults.Problem(statusCode: StatusCodes.Status504GatewayTimeout, title: "MiniVoice did not answer in time",
                    detail: $"No answer within {options.Value.TimeoutSeconds} s. " +
                        "The call may or may not have been placed; it was not retried.");
            default:
                return TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "MiniVoice is unreachable");
        }
    }

    private static ProblemHttpResult Refused(CreateCallResult.Refused refused)
    {
        var status = refused.Code is not null && StatusByCode.TryGetValue(refused.Code, out var mapped)
            ? mapped
            : refused.HttpStatus >= 500 || refused.Code is null
                ? StatusCodes.Status502BadGateway
                : StatusCodes.Status422UnprocessableEntity;
        return TypedResults.Problem(statusCode: status, title: "MiniVoice refused the call", detail: refused.Message,
            extensions: new Dictionary<string, object?> { ["code"] = refused.Code, ["minivoice_status"] = refused.HttpStatus });
    }
}
