namespace WebhookReceiver.Hosting;

/// <summary>What this process does: the same binary scales out as HTTP-only and worker-only processes.</summary>
internal enum ProcessRole
{
    /// <summary>Serves HTTP and runs background work (default; one process does everything).</summary>
    All,
    /// <summary>Serves HTTP only; no Hangfire server, no dispatcher.</summary>
    Api,
    /// <summary>Runs Hangfire servers and the dispatcher; serves only health endpoints.</summary>
    Worker,
}

internal static class Roles
{
    public static ProcessRole Role(this IConfiguration configuration) =>
        Enum.TryParse<ProcessRole>(configuration["Role"], ignoreCase: true, out var role) ? role : ProcessRole.All;

    public static bool RunsWorkers(this ProcessRole role) => role is ProcessRole.All or ProcessRole.Worker;
    public static bool ServesApi(this ProcessRole role) => role is ProcessRole.All or ProcessRole.Api;
}
