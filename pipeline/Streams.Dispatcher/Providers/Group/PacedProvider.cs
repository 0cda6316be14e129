using Streams.Counters;

namespace Streams.Dispatcher.Providers;

/// <summary>
/// Pacing as middleware around a member of a failover group: the group's own turn is taken before the claim; a
/// member's turn is taken when the group moves on to it.
/// </summary>
public sealed class PacedProvider(ISmsProvider inner, ICounterStore counters, TimeProvider time, double perSecond, int burst = 1) : ISmsProvider
{
    private readonly Pacer _pacer = new(counters, time, inner.Name, perSecond, burst);

    public string Name => inner.Name;
    public string Kind => inner.Kind;
    public bool CanFind => inner.CanFind;
    public bool PrefersBatches => inner.PrefersBatches;
    public TimeSpan? DeliversAfter => inner.DeliversAfter;

    public async Task<SendOutcome> SendAsync(OutboundSms sms, CancellationToken ct)
    {
        await _pacer.TakeAsync(1, ct);
        return await inner.SendAsync(sms, ct);
    }

    /// <summary>A batch counts as many messages as it holds: every one takes its turn before the call.</summary>
    public async Task<IReadOnlyList<SendOutcome>> SendBatchAsync(IReadOnlyList<OutboundSms> batch, CancellationToken ct)
    {
        await _pacer.TakeAllAsync(batch.Count, ct);
        return await inner.SendBatchAsync(batch, ct);
    }

    public Task<string?> FindAsync(string requestId, CancellationToken ct) => inner.FindAsync(requestId, ct);
}
