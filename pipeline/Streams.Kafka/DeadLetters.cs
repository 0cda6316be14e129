using System.Globalization;
using System.Text;
using Confluent.Kafka;

namespace Streams.Kafka;

/// <summary>Header names on sms.dlq records.</summary>
public static class DlqHeaders
{
    public const string Error = "dlq.error";
    public const string Reason = "dlq.reason";
    public const string SourceTopic = "dlq.source.topic";
    public const string SourcePartition = "dlq.source.partition";
    public const string SourceOffset = "dlq.source.offset";
    public const string Stage = "dlq.stage";
}

/// <summary>
/// The one way a record becomes a dead letter: its bytes and headers as they came, plus headers saying why it was
/// refused, where it came from and which stage refused it.
/// </summary>
public static class DeadLetters
{
    public static Headers Headers(Headers? original, DecodeException error, TopicPartitionOffset source, string stage)
    {
        var headers = new Headers();
        foreach (var h in original ?? []) headers.Add(h.Key, h.GetValueBytes());
        void Add(string k, string v) => headers.Add(k, Encoding.UTF8.GetBytes(v));
        Add(DlqHeaders.Reason, error.Reason);
        Add(DlqHeaders.Error, error.Message);
        Add(DlqHeaders.SourceTopic, source.Topic);
        Add(DlqHeaders.SourcePartition, source.Partition.Value.ToString(CultureInfo.InvariantCulture));
        Add(DlqHeaders.SourceOffset, source.Offset.Value.ToString(CultureInfo.InvariantCulture));
        Add(DlqHeaders.Stage, stage);
        return headers;
    }

    public static Message<string, byte[]> For(ConsumeResult<string, byte[]> source, DecodeException error, string stage) => new()
    {
        Key = source.Message.Key,
        Value = source.Message.Value ?? [],
        Headers = Headers(source.Message.Headers, error, source.TopicPartitionOffset, stage),
    };
}
