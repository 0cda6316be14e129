using Streamiz.Kafka.Net.Crosscutting;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.State.InMemory;
using Streamiz.Kafka.Net.State.Supplier;
using Streamiz.Kafka.Net.Table;

namespace Streams.Topologies.LiveTrigger;

/// <summary>
/// The global campaigns store (in memory, as before), counting its writes. A processor that keeps something built
/// from the campaigns (an index of triggers by event name) rebuilds it when the count moves instead of walking the
/// store for every event: walking 100 campaigns per event was a third of the live path's time. The count moves after
/// the write, so a reader that sees the old count reads the store again on its next look.
/// </summary>
public sealed class CampaignStore : IKeyValueBytesStoreSupplier
{
    private long _writes;

    public string Name { get; set; } = StoreNames.Campaigns;
    public string MetricsScope => "in-memory-state";

    /// <summary>How many writes (puts, deletes, a restore) the store has taken so far.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    public IKeyValueStore<Bytes, byte[]> Get() => new Counting(Name, this);

    public Materialized<string, byte[], IKeyValueStore<Bytes, byte[]>> Materialized() =>
        Materialized<string, byte[], IKeyValueStore<Bytes, byte[]>>.Create(this);

    private sealed class Counting(string name, CampaignStore owner) : InMemoryKeyValueStore(name)
    {
        public override void Put(Bytes key, byte[] value)
        {
            base.Put(key, value);
            Interlocked.Increment(ref owner._writes);
        }

        public override void PutAll(IEnumerable<KeyValuePair<Bytes, byte[]>> entries)
        {
            base.PutAll(entries);
            Interlocked.Increment(ref owner._writes);
        }

        public override byte[] PutIfAbsent(Bytes key, byte[] value)
        {
            var previous = base.PutIfAbsent(key, value);
            Interlocked.Increment(ref owner._writes);
            return previous;
        }

        public override byte[] Delete(Bytes key)
        {
            var previous = base.Delete(key);
            Interlocked.Increment(ref owner._writes);
            return previous;
        }
    }
}
