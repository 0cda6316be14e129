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
            var pace = await counters.PaceAsync("provider:" + inner.Name, perSecond, burst, 1, time.GetUtcNow());
            if (pace.Granted == 1) break;
            await Task.Delay(pace.RetryAfter, time, ct);
        }
        return await inner.SendAsync(sms, ct);
    }

    /// <summary>A batch counts as many messages as it holds: every one takes its token before the call.</summary>
    public async Task<IReadOnlyList<SendOutcome>> SendBatchAsync(IReadOnlyList<OutboundSms> batch, CancellationToken ct)
    {
        var taken = 0;
        while (taken < batch.Count)
        {
            var pace = await counters.PaceAsync("provider:" + inner.Name, perSecond, burst, Math.Min(burst, batch.Count - taken), time.GetUtcNow());
            taken += pace.Granted;
            if (taken < batch.Count && pace.Granted == 0) await Task.Delay(pace.RetryAfter, time, ct);
        }
        return await inner.SendBatchAsync(batch, ct);
    }

    public bool CanFind => inner.CanFind;
    public string Kind => inner.Kind;

    public Task<string?> FindAsync(string requestId, CancellationToken ct) => inner.FindAsync(requestId, ct);

    public Task ResumeAsync(SmsRequest request, string messageId, CancellationToken ct) => inner.ResumeAsync(request, messageId, ct);
}
