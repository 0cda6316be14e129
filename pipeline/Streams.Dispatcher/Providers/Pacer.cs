using Streams.Counters;

namespace Streams.Dispatcher.Providers;

/// <summary>
/// A provider's pacing (providers.&lt;name&gt;.rate and burst), shared by every dispatcher through the counter
/// store: the rate is never exceeded, and with a backlog every turn is used. Turns are taken before a request is
/// claimed, so a request waiting for its turn holds nothing.
/// </summary>
public sealed class Pacer(ICounterStore counters, TimeProvider time, string providerName, double perSecond, int burst = 1)
{
    private readonly string _key = "provider:" + providerName;

    /// <summary>Waits for the next turn; returns how many sends it covers (at least one, at most <paramref name="wanted"/> and the burst).</summary>
    public async Task<int> TakeAsync(int wanted, CancellationToken ct)
    {
        while (true)
        {
            var asked = time.GetUtcNow();
            var pace = await counters.PaceAsync(_key, perSecond, burst, Math.Min(Math.Max(1, burst), wanted), asked);
            if (pace.Granted > 0) return pace.Granted;
            await WaitUntilAsync(asked + pace.RetryAfter, ct);
        }
    }

    /// <summary>Waits until all <paramref name="wanted"/> sends have their turns (a batch API sends them in one call).</summary>
    public async Task<int> TakeAllAsync(int wanted, CancellationToken ct)
    {
        var taken = 0;
        while (taken < wanted) taken += await TakeAsync(wanted - taken, ct);
        return taken;
    }

    /// <summary>The next turn is an instant, not a duration: the store's round trip is not added to the wait.</summary>
    private async Task WaitUntilAsync(DateTimeOffset turn, CancellationToken ct)
    {
        var wait = turn - time.GetUtcNow();
        if (wait > TimeSpan.Zero) await Task.Delay(wait, time, ct);
    }
}
