using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Streams.Kafka;

/// <summary>Reads a topic by hand-assigned partitions, outside any consumer group.</summary>
public static class TopicReader
{
    public static List<TopicPartition> Partitions(IConsumer<string, byte[]> consumer, string topic)
    {
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        return admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
    }

    /// <summary>Where each partition of the topic ends now.</summary>
    public static Dictionary<TopicPartition, long> Ends(IConsumer<string, byte[]> consumer, string topic) =>
        Partitions(consumer, topic).ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value);

    public static bool HasRecords(string bootstrap, Topic topic, ILogger logger)
    {
        using var consumer = KafkaClients.Reader(bootstrap, "history", logger);
        return Ends(consumer, topic).Values.Any(end => end > 0);
    }

    /// <summary>Every record of the topic from the beginning to its end at the time of the call.</summary>
    public static IEnumerable<ConsumeResult<string, byte[]>> Records(string bootstrap, string topic, ILogger logger, CancellationToken ct)
    {
        using var consumer = KafkaClients.Reader(bootstrap, "read-" + topic, logger);
        var ends = Ends(consumer, topic);
        var remaining = ends.Where(e => e.Value > 0).Select(e => e.Key).ToHashSet();
        consumer.Assign(remaining.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        while (remaining.Count > 0 && !ct.IsCancellationRequested)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null) continue;
            if (r.Offset.Value + 1 >= ends[r.TopicPartition]) remaining.Remove(r.TopicPartition);
            if (r.Offset.Value < ends[r.TopicPartition]) yield return r;
        }
        consumer.Close();
    }

    /// <summary>Every value of the topic from the beginning to its end at the time of the call; what does not decode
    /// is passed over (it was dead-lettered where it came in).</summary>
    public static IEnumerable<T> ReadToEnd<T>(string bootstrap, Topic<T> topic, ILogger logger, CancellationToken ct) where T : class =>
        Records(bootstrap, topic, logger, ct).Select(r => topic.TryDecode(r.Message.Value)).Where(d => d.Ok).Select(d => d.Value!);
}
