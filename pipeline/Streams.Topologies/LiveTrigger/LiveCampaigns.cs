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

    public IEnumerable<(CampaignRecord Campaign, CampaignSpec Spec, Trigger Trigger)> Active()
    {
        foreach (var (key, raw) in _records())
        {
            if (raw is null || Read(key, raw) is not { Record.Status: CampaignStatus.Active, Spec: { Type: CampaignType.Live, Who.Trigger: { } trigger } spec } known) continue;
            yield return (known.Record, spec, trigger);
        }
    }

    private Known? Read(string key, byte[] raw)
    {
        if (_known.TryGetValue(key, out var known) && (ReferenceEquals(known.Raw, raw) || known.Raw.AsSpan().SequenceEqual(raw))) return known;
        if (Codecs.CampaignRecord.TryDecodeOwn(raw) is not { Ok: true, Value: { } record })
        {
            _known.Remove(key);
            return null;
        }
        return _known[key] = new Known(raw, record, CampaignSpecParser.Parse(record.SpecJson).Spec);
    }

    private static IEnumerable<(string Key, V? Value)> All<V>(IReadOnlyKeyValueStore<string, V> store)
    {
        foreach (var kv in store.All()) yield return (kv.Key, kv.Value);
    }

    private sealed record Known(byte[] Raw, CampaignRecord Record, CampaignSpec? Spec);
}
