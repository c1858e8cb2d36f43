namespace WebhookReceiver.Hosting;

/// <summary>
/// `dotnet WebhookReceiver.dll healthcheck`: the container's HEALTHCHECK, so the runtime image needs no curl.
/// Asks this machine's /health/live and exits 0 when it answers 200.
/// </summary>
internal static class HealthProbe
{
    public static async Task<int> RunAsync()
    {
        var url = Environment.GetEnvironmentVariable("HEALTHCHECK_URL")
                  ?? $"http://127.0.0.1:{FirstPort(Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS"))}/health/live";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await http.GetAsync(new Uri(url));
            await Console.Out.WriteLineAsync($"{url}: {(int)response.StatusCode}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"{url}: {ex.Message}");
            return 1;
        }
    }

    private static string FirstPort(string? ports) =>
        ports?.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "8080";
}
