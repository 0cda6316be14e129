using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.Stream;

namespace Streams.Topologies;

public static class Sinks
{
    /// <summary>
    /// To a topic, each record to the partition librdkafka's partitioner gives its key: where Streamiz's default
    /// partitioner sends it too (it reshuffles every key), without that partitioner's question for the topic's
    /// partition count, which Streamiz 1.8.2 answers per record by rebuilding its admin configuration (a tenth of the
    /// live path's time).
    /// </summary>
    public static void ToByKey<K, V, KS, VS>(this IKStream<K, V> stream, string topic, string named)
        where KS : ISerDes<K>, new()
        where VS : ISerDes<V>, new() =>
        stream.To<KS, VS>(new Fixed<K, V>(topic), (IStreamPartitioner<K, V>)null!, named);

    private sealed class Fixed<K, V>(string topic) : ITopicNameExtractor<K, V>
    {
        public string Extract(K key, V value, IRecordContext recordContext) => topic;
    }
}
