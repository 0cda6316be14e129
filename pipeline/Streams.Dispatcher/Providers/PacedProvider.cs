using Streams.Core;
using Streams.Counters;

namespace Streams.Dispatcher.Providers;

/// <summary>
/// Middleware around a provider: each send first takes a pacing token for the provider, shared by
/// every dispatcher through the counter store, and waits (on the injected clock) as long as it is told.
/// The rate is never exceeded, and with a backlog every token is used.
/// </summary>
public sealed class PacedProvider(ISmsProvider inner, ICounterStore counters, TimeProvider time, double perSecond, int burst = 1) : ISmsProvider
{
    public string Name => inner.Name;

    public async Task<SendOutcome> SendAsync(OutboundSms sms, CancellationToken ct)
    {
        while (true)
        {
            var asked = time.GetUtcNow();
            var pace = await counters.PaceAsync("provider:" + inner.Name, perSecond, burst, 1, asked);
            if (pace.Granted == 1) break;
            await WaitUntilAsync(asked + pace.RetryAfter, ct);
        }
        return await inner.SendAsync(sms, ct);
    }

    /// <summary>A batch counts as many messages as it holds: every one takes its token before the call.</summary>
    public async Task<IReadOnlyList<SendOutcome>> SendBatchAsync(IReadOnlyList<OutboundSms> batch, CancellationToken ct)
    {
        var taken = 0;
        while (taken < batch.Count)
        {
            var asked = time.GetUtcNow();
            var pace = await counters.PaceAsync("provider:" + inner.Name, perSecond, burst, Math.Min(burst, batch.Count - taken), asked);
            taken += pace.Granted;
            if (taken < batch.Count && pace.Granted == 0) await WaitUntilAsync(asked + pace.RetryAfter, ct);
        }
        return await inner.SendBatchAsync(batch, ct);
    }

    /// <summary>The next turn is an instant, not a duration: the store's round trip is not added to the wait.</summary>
    private async Task WaitUntilAsync(DateTimeOffset turn, CancellationToken ct)
    {
        var wait = turn - time.GetUtcNow();
        if (wait > TimeSpan.Zero) await Task.Delay(wait, time, ct);
    }

    public bool CanFind => inner.CanFind;
    public string Kind => inner.Kind;

    public Task<string?> FindAsync(string requestId, CancellationToken ct) => inner.FindAsync(requestId, ct);

    public Task ResumeAsync(SmsRequest request, string messageId, CancellationToken ct) => inner.ResumeAsync(request, messageId, ct);
}
