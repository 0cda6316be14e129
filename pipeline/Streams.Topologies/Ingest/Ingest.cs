using Confluent.Kafka;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.Stream;
using Streams.Core;
using Streams.Kafka;

namespace Streams.Topologies.Ingest;

/// <summary>A raw input record after decoding: a value, or the reason it was refused plus where it came from.</summary>
public sealed record Ingested<T>(T? Value, DecodeException? Error, byte[]? Raw, TopicPartitionOffset? Source) where T : class;

/// <summary>
/// Decodes raw input bytes; every refusal goes to sms.dlq with the original bytes and headers
/// naming the reason, the source topic, partition and offset. Only valid values flow on.
/// </summary>
public static class IngestStream
{
    public static IKStream<string, T> Decode<T>(
        StreamBuilder builder, Topic<T> topic, string dlqTopic, int maxBytes, Func<T, string> userIdOf)
        where T : class
    {
        var ingested = builder
            .Stream(topic.Name, new StringSerDes(), new ByteArraySerDes())
            .MapValues((key, raw, ctx) => Ingest(key, raw, ctx, topic, maxBytes, userIdOf), $"decode-{topic}");

        ingested
            .Filter((_, v, _) => v.Value is null, $"rejected-{topic}")
            .Transform(TransformerBuilder.New<string, Ingested<T>, string, byte[]>()
                .Transformer(record => Record<string, byte[]>.Create(record.Key, record.Value.Raw!, DeadLetters.Headers(record.Headers, record.Value.Error!, record.Value.Source!, "ingest")))
                .Build(), $"dlq-{topic}")
            .To(dlqTopic, new StringSerDes(), new ByteArraySerDes());

        return ingested
            .Filter((_, v, _) => v.Value is not null, $"accepted-{topic}")
            .MapValues((_, v, _) => v.Value!, $"values-{topic}");
    }

    private static Ingested<T> Ingest<T>(string? key, byte[] raw, IRecordContext ctx, Topic<T> topic, int maxBytes, Func<T, string> userIdOf)
        where T : class
    {
        var source = new TopicPartitionOffset(ctx.Topic, ctx.Partition, ctx.Offset);
        var decoded = topic.TryDecode(raw, maxBytes);
        if (!decoded.Ok) return new Ingested<T>(null, decoded.Error, raw ?? [], source);
        // Keys must be the user id: stream-table joins and per-user state rely on co-partitioning.
        if (key != userIdOf(decoded.Value!))
            return new Ingested<T>(null, new DecodeException(DecodeReasons.KeyMismatch, $"record key '{key}' is not the value's user_id"), raw, source);
        return new Ingested<T>(decoded.Value, null, null, null);
    }
}
