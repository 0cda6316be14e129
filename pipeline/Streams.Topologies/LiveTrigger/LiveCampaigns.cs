using Streamiz.Kafka.Net.State;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Kafka;

namespace Streams.Topologies.LiveTrigger;

/// <summary>
/// The campaigns in the global campaigns store, each record decoded and its spec parsed once per change, and the
/// active live ones indexed by the event names they listen to (trigger or inaction follow-up), in store order.
/// Given the store's write count (<see cref="CampaignStore"/>), the store is read again only when it moved; without
/// it, on every look. A record that cannot be read is skipped.
/// </summary>
public sealed class LiveCampaigns
{
    private static readonly IReadOnlyList<(CampaignRecord, CampaignSpec, Trigger)> None = [];

    private readonly Func<IEnumerable<(string Key, byte[]? Value)>> _records;
    private readonly Func<long>? _writes;
    private readonly Dictionary<string, Known> _known = new(StringComparer.Ordinal);
    private long _readAt = -1;
    private int _changes;
    private int _builtAt = -1;
    private IReadOnlyDictionary<string, (CampaignRecord Record, CampaignSpec Spec)> _all = new Dictionary<string, (CampaignRecord, CampaignSpec)>();
    private List<(CampaignRecord Campaign, CampaignSpec Spec, Trigger Trigger)> _active = [];
    private Dictionary<string, List<(CampaignRecord Campaign, CampaignSpec Spec, Trigger Trigger)>> _byEvent = new(StringComparer.Ordinal);

    /// <param name="store">The global campaigns store as the processor context gives it.</param>
    /// <param name="writes">The store's write count, when it keeps one: the store is read again only when it moved.</param>
    public LiveCampaigns(object store, Func<long>? writes = null)
    {
        _writes = writes;
        _records = store switch
        {
            IReadOnlyKeyValueStore<string, ValueAndTimestamp<byte[]>> ts => () => All(ts).Select(kv => (kv.Key, kv.Value?.Value)),
            IReadOnlyKeyValueStore<string, byte[]> plain => () => All(plain),
            _ => throw new InvalidOperationException($"store {StoreNames.Campaigns} has unexpected type {store?.GetType()}"),
        };
    }

    /// <summary>Counts the changes seen so far: a reader that builds something from the campaigns rebuilds it when this moves.</summary>
    public int Changes
    {
        get
        {
            Refresh();
            return _changes;
        }
    }

    /// <summary>Every readable campaign, whatever its status or type, by id.</summary>
    public IReadOnlyDictionary<string, (CampaignRecord Record, CampaignSpec Spec)> All()
    {
        Refresh();
        return _all;
    }

    /// <summary>The active live campaigns with a trigger, in store order.</summary>
    public IReadOnlyList<(CampaignRecord Campaign, CampaignSpec Spec, Trigger Trigger)> Active()
    {
        Refresh();
        return _active;
    }

    /// <summary>The active live campaigns whose trigger or inaction follow-up is this event, in store order.</summary>
    public IReadOnlyList<(CampaignRecord Campaign, CampaignSpec Spec, Trigger Trigger)> Listening(string eventName)
    {
        Refresh();
        return _byEvent.TryGetValue(eventName, out var listening) ? listening : None;
    }

    private void Refresh()
    {
        if (_writes is not null)
        {
            // Read before the store: a write landing during the walk moves the count again, and the next look walks again.
            var writes = _writes();
            if (writes == _readAt) return;
            _readAt = writes;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var (key, raw) in _records())
        {
            if (raw is null || !seen.Add(key)) continue;
            order.Add(key);
            Read(key, raw);
        }
        if (seen.Count != _known.Count)
        {
            foreach (var gone in _known.Keys.Where(k => !seen.Contains(k)).ToList()) _known.Remove(gone);
            _changes++;
        }
        if (_builtAt != _changes) Build(order);
    }

    private void Build(List<string> order)
    {
        _all = _known.Where(k => k.Value is { Record: not null, Spec: not null }).ToDictionary(k => k.Key, k => (k.Value.Record!, k.Value.Spec!), StringComparer.Ordinal);
        _active = [];
        _byEvent = new Dictionary<string, List<(CampaignRecord, CampaignSpec, Trigger)>>(StringComparer.Ordinal);
        foreach (var key in order)
        {
            if (_known[key] is not { Record: { Status: CampaignStatus.Active } record, Spec: { Type: CampaignType.Live, Who.Trigger: { } trigger } spec }) continue;
            var entry = (record, spec, trigger);
            _active.Add(entry);
            foreach (var name in new[] { trigger.Event, trigger.Inaction?.Event }.OfType<string>().Distinct(StringComparer.Ordinal))
            {
                if (!_byEvent.TryGetValue(name, out var list)) _byEvent[name] = list = [];
                list.Add(entry);
            }
        }
        _builtAt = _changes;
    }

    private void Read(string key, byte[] raw)
    {
        if (_known.TryGetValue(key, out var known) && (ReferenceEquals(known.Raw, raw) || known.Raw.AsSpan().SequenceEqual(raw))) return;
        _changes++;
        // One that cannot be read is remembered as such, so it is not decoded again on every look.
        if (Codecs.CampaignRecord.TryDecodeOwn(raw) is not { Ok: true, Value: { } record }) _known[key] = new Known(raw, null, null);
        else _known[key] = new Known(raw, record, CampaignSpecParser.Parse(record.SpecJson).Spec);
    }

    private static IEnumerable<(string Key, V? Value)> All<V>(IReadOnlyKeyValueStore<string, V> store)
    {
        foreach (var kv in store.All()) yield return (kv.Key, kv.Value);
    }

    private sealed record Known(byte[] Raw, CampaignRecord? Record, CampaignSpec? Spec);
}
