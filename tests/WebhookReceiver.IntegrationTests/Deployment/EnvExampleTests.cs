using WebhookReceiver.IntegrationTests.Infrastructure;

namespace WebhookReceiver.IntegrationTests.Deployment;

/// <summary>
/// A first-time operator who copies .env.example and forgets a value must be told what to replace: the shipped
/// placeholder signing secret is refused at start with that, not with a complaint about base64. Real process.
/// </summary>
public sealed class EnvExampleTests
{
    [Fact]
    public async Task The_placeholder_signing_secret_of_env_example_is_refused_with_replace_the_placeholder()
    {
        var placeholder = File.ReadAllLines(Path.Combine(RepositoryRoot(), ".env.example"))
            .Single(line => line.StartsWith("WEBHOOK_SIGNING_SECRET=", StringComparison.Ordinal))["WEBHOOK_SIGNING_SECRET=".Length..];
        await Hosts.WithDatabaseAsync("wr_envexample", async database =>
        {
            var (exitCode, output) = await AppProcess.RunToExitAsync(new Dictionary<string, string?>
            {
                ["ConnectionStrings__Postgres"] = database,
                ["Webhooks__SigningSecrets__0"] = placeholder,
            });

            Assert.NotEqual(0, exitCode);
            Assert.Contains("still the placeholder from .env.example", output, StringComparison.Ordinal);
            Assert.Contains("WEBHOOK_SIGNING_SECRET", output, StringComparison.Ordinal);
            Assert.DoesNotContain("base64 secret", output, StringComparison.Ordinal);
            Assert.DoesNotContain(placeholder, output, StringComparison.Ordinal);
        });
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "WebhookReceiver.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("WebhookReceiver.sln not found above " + AppContext.BaseDirectory);
    }
}
