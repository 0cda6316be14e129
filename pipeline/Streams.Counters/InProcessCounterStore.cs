using Streams.Core;
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

    public Task<IReadOnlyList<string?>> SentDetailsAsync(IReadOnlyList<string> requestIds) =>
        Task.FromResult<IReadOnlyList<string?>>([.. requestIds.Select(id => _sends.TryGetValue(id, out var s) && s.State == SendState.Sent ? s.Detail : null)]);

    public Task ReleaseAsync(string requestId)
    {
        _sends.TryRemove(requestId, out _);
        return Task.CompletedTask;
    }

    public Task<bool> TryMarkOnceAsync(string key, TimeSpan keep) => Task.FromResult(_markers.TryAdd(key, 0));

    private readonly ConcurrentDictionary<string, string> _notes = new();

    public Task UnmarkOnceAsync(string key)
    {
        _markers.TryRemove(key, out _);
        return Task.CompletedTask;
    }

    public Task RememberAsync(string key, string value, TimeSpan keep)
    {
        _notes[key] = value;
        return Task.CompletedTask;
    }

    public Task<string?> RecallAsync(string key) => Task.FromResult(_notes.TryGetValue(key, out var v) ? v : null);

    private readonly object _slotLock = new();
    private readonly Dictionary<string, HashSet<string>> _members = [];
    private readonly Dictionary<string, long> _counts = [];

    public Task<IReadOnlyList<SlotGrant>> TakeSlotsAsync(IReadOnlyList<SlotRequest> requests)
    {
        var grants = new List<SlotGrant>(requests.Count);
        lock (_slotLock)
        {
            foreach (var request in requests)
            {
                var denied = request.Counters.FirstOrDefault(c => c.Kind == CounterKind.Users
                    ? !Members(c.Key).Contains(request.Member) && Members(c.Key).Count >= c.Limit
                    : _counts.GetValueOrDefault(c.Key) >= c.Limit);
                if (denied is not null)
                {
                    grants.Add(new SlotGrant(denied.Reason, []));
                    continue;
                }
                grants.Add(new SlotGrant(null, request.Counters.Select(c =>
                {
                    if (c.Kind == CounterKind.Users) return Members(c.Key).Add(request.Member);
                    _counts[c.Key] = _counts.GetValueOrDefault(c.Key) + 1;
                    return true;
                }).ToList()));
            }
        }
        return Task.FromResult<IReadOnlyList<SlotGrant>>(grants);
    }

    public Task ReleaseSlotsAsync(SlotRequest request, SlotGrant grant)
    {
        lock (_slotLock)
        {
            for (var i = 0; i < request.Counters.Count && i < grant.Added.Count; i++)
            {
                if (!grant.Added[i]) continue;
                var c = request.Counters[i];
                if (c.Kind == CounterKind.Users) Members(c.Key).Remove(request.Member);
                else _counts[c.Key] = Math.Max(0, _counts.GetValueOrDefault(c.Key) - 1);
            }
        }
        return Task.CompletedTask;
    }

    private readonly Dictionary<string, long> _tats = [];

    public Task<Pace> PaceAsync(string key, double perSecond, int burst, int wanted, DateTimeOffset now)
    {
        lock (_slotLock)
        {
            var (granted, tat, retry) = Gcra.Take(_tats.GetValueOrDefault(key), Gcra.Micros(now), perSecond, burst, wanted);
            _tats[key] = tat;
            return Task.FromResult(new Pace(granted, TimeSpan.FromMicroseconds(retry)));
        }
    }

    private readonly Dictionary<string, (long At, bool Out)> _consent = [];

    public Task SetOptOutAsync(string subject, bool optedOut, DateTimeOffset at)
    {
        lock (_slotLock)
        {
            if (!_consent.TryGetValue(subject, out var current) || current.At <= at.ToUnixTimeMilliseconds())
                _consent[subject] = (at.ToUnixTimeMilliseconds(), optedOut);
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<bool>> OptedOutAsync(IReadOnlyList<IReadOnlyList<string>> subjects)
    {
        lock (_slotLock)
            return Task.FromResult<IReadOnlyList<bool>>(subjects.Select(list => list.Any(s => _consent.TryGetValue(s, out var c) && c.Out)).ToList());
    }

    private HashSet<string> Members(string key) => _members.TryGetValue(key, out var set) ? set : _members[key] = [];

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
