using System.Collections.Concurrent;

namespace Streams.Counters;

/// <summary>The embedded implementation: same semantics as Redis, for one process. Expiry is not needed within a process lifetime.</summary>
public sealed class InProcessCounterStore : ICounterStore
{
    private readonly ConcurrentDictionary<string, (SendState State, string Detail)> _sends = new();
    private readonly ConcurrentDictionary<string, byte> _markers = new();
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, long>> _campaigns = new();

    public Task<Claim> ClaimAsync(string requestId, string owner, TimeSpan keep)
    {
        var current = _sends.GetOrAdd(requestId, (SendState.Claimed, owner));
        var won = current.State == SendState.Claimed && current.Detail == owner;
        return Task.FromResult(won ? new Claim(true, SendState.Absent, null) : new Claim(false, current.State, current.Detail));
    }

    public Task MarkSentAsync(string requestId, string detail, TimeSpan keep)
    {
        _sends[requestId] = (SendState.Sent, detail);
        return Task.CompletedTask;
    }

    public Task ReleaseAsync(string requestId)
    {
        _sends.TryRemove(requestId, out _);
        return Task.CompletedTask;
    }

    public Task<bool> TryMarkOnceAsync(string key, TimeSpan keep) => Task.FromResult(_markers.TryAdd(key, 0));

    public Task IncrementAsync(string campaignId, string counter, long by = 1)
    {
        _campaigns.GetOrAdd(campaignId, _ => new()).AddOrUpdate(counter, by, (_, v) => v + by);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyDictionary<string, long>> CampaignCountsAsync(string campaignId) =>
        Task.FromResult<IReadOnlyDictionary<string, long>>(
            _campaigns.TryGetValue(campaignId, out var c) ? new Dictionary<string, long>(c) : new Dictionary<string, long>());

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
