namespace WebhookReceiver.IntegrationTests.Infrastructure;

/// <summary>Waits for a real condition (background work finishing), failing with a message after a timeout.</summary>
internal static class Eventually
{
    public static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (!await condition())
        {
            if (deadline.IsCancellationRequested)
            {
                Assert.Fail($"Timed out after {timeout.TotalSeconds:0} s waiting for: {what}");
            }
            await Task.Delay(25, CancellationToken.None);
        }
    }

    /// <summary>As above; on timeout the message also says what the world looked like (e.g. ledger states).</summary>
    public static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<Task<string>> describe)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (!await condition())
        {
            if (deadline.IsCancellationRequested)
            {
                Assert.Fail($"Timed out after {timeout.TotalSeconds:0} s waiting for: {what}. State: {await describe()}");
            }
            await Task.Delay(25, CancellationToken.None);
        }
    }

    public static Task WaitAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        WaitAsync(() => Task.FromResult(condition()), timeout, what);
}
