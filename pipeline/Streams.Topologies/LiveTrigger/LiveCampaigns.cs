using Streamiz.Kafka.Net.State;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Kafka;

namespace Streams.Topologies.LiveTrigger;

/// <summary>
/// The active live campaigns in the global campaigns store, each record decoded and its spec parsed once per change:
/// with 100 campaigns, decoding every record for every event was most of the live path's cost. A record that cannot
/// be read is skipped.
/// </summary>
public sealed class LiveCampaigns
{
    private readonly Func<IEnumerable<(string Key, byte[]? Value)>> _records;
    private readonly Dictionary<string, Known> _known = [];

    /// <param name="store">The global campaigns store as the processor context gives it.</param>
    public LiveCampaigns(object store)
    {
        _records = store switch
        {
            IReadOnlyKeyValueStore<string, ValueAndTimestamp<byte[]>> ts => () => All(ts).Select(kv => (kv.Key, kv.Value?.Value)),
            IReadOnlyKeyValueStore<string, byte[]> plain => () => All(plain),
            _ => throw new InvalidOperationException($"store {StoreNames.Campaigns} has unexpected type {store?.GetType()}"),
        };
    }

    private int _changes;
    private IReadOnlyDictionary<string, (CampaignRecord Record, CampaignSpec Spec)> _all = new Dictionary<string, (CampaignRecord, CampaignSpec)>();
    private int _allAt = -1;

    /// <summary>Counts the changes seen so far: a reader that builds something from the campaigns rebuilds it when this moves.</summary>
    public int Changes
    {
        get
        {
            var seen = 0;
            foreach (var (key, raw) in _records())
            {
                if (raw is null) continue;
                seen++;
                Read(key, raw);
            }
            if (seen != _known.Count)
            {
                foreach (var gone in _known.Keys.Except(_records().Where(r => r.Value is not null).Select(r => r.Key)).ToList()) _known.Remove(gone);
                _changes++;
            }
            return _changes;
        }
    }

    /// <summary>Every readable campaign, whatever its status or type, by id (rebuilt only when a record changed).</summary>
    public IReadOnlyDictionary<string, (CampaignRecord Record, CampaignSpec Spec)> All()
    {
        var changes = Changes;
        if (changes == _allAt) return _all;
        _all = _known.Where(k => k.Value is { Record: not null, Spec: not null }).ToDictionary(k => k.Key, k => (k.Value.Record!, k.Value.Spec!), StringComparer.Ordinal);
        _allAt = changes;
        return _all;
    }

    public IEnumerable<(CampaignRecord Campaign, CampaignSpec Spec, Trigger Trigger)> Active()
    {
        foreach (var (key, raw) in _records())
        {
            if (raw is null || Read(key, raw) is not { Record.Status: CampaignStatus.Active, Spec: { Type: CampaignType.Live, Who.Trigger: { } trigger } spec } known) continue;
            yield return (known.Record!, spec, trigger);
        }
    }

    private Known? Read(string key, byte[] raw)
    {
        if (_known.TryGetValue(key, out var known) && (ReferenceEquals(known.Raw, raw) || known.Raw.AsSpan().SequenceEqual(raw))) return known;
        _changes++;
        // One that cannot be read is remembered as such, so it is not decoded again on every event.
        if (Codecs.CampaignRecord.TryDecodeOwn(raw) is not { Ok: true, Value: { } record }) return _known[key] = new Known(raw, null, null);
        return _known[key] = new Known(raw, record, CampaignSpecParser.Parse(record.SpecJson).Spec);
    }

    private static IEnumerable<(string Key, V? Value)> All<V>(IReadOnlyKeyValueStore<string, V> store)
    {
        foreach (var kv in store.All()) yield return (kv.Key, kv.Value);
    }

    private sealed record Known(byte[] Raw, CampaignRecord? Record, CampaignSpec? Spec);
}
