using Confluent.Kafka;

namespace Streams.Tests;

/// <summary>
/// A producer for tests: acknowledges and drops every record, or hands it to a real producer; <see cref="Before"/>
/// sees each record first and may throw to stand for Kafka failing at that moment.
/// </summary>
public sealed class TestProducer(IProducer<string, byte[]>? inner = null) : IProducer<string, byte[]>
{
    public Action<string, Message<string, byte[]>>? Before { get; init; }

    public Task<DeliveryResult<string, byte[]>> ProduceAsync(string topic, Message<string, byte[]> message, CancellationToken cancellationToken = default)
    {
        Before?.Invoke(topic, message);
        return inner?.ProduceAsync(topic, message, cancellationToken)
            ?? Task.FromResult(new DeliveryResult<string, byte[]> { Topic = topic, Message = message });
    }

    public Task<DeliveryResult<string, byte[]>> ProduceAsync(TopicPartition topicPartition, Message<string, byte[]> message, CancellationToken cancellationToken = default)
    {
        Before?.Invoke(topicPartition.Topic, message);
        return inner?.ProduceAsync(topicPartition, message, cancellationToken)
            ?? Task.FromResult(new DeliveryResult<string, byte[]> { Topic = topicPartition.Topic, Message = message });
    }

    public void Produce(string topic, Message<string, byte[]> message, Action<DeliveryReport<string, byte[]>>? deliveryHandler = null) =>
        throw new NotSupportedException("the pipeline awaits every produce");
    public void Produce(TopicPartition topicPartition, Message<string, byte[]> message, Action<DeliveryReport<string, byte[]>>? deliveryHandler = null) =>
        throw new NotSupportedException("the pipeline awaits every produce");
    public int Poll(TimeSpan timeout) => inner?.Poll(timeout) ?? 0;
    public int Flush(TimeSpan timeout) => inner?.Flush(timeout) ?? 0;
    public void Flush(CancellationToken cancellationToken = default) => inner?.Flush(cancellationToken);
    public void InitTransactions(TimeSpan timeout) => throw new NotSupportedException();
    public void BeginTransaction() => throw new NotSupportedException();
    public void CommitTransaction(TimeSpan timeout) => throw new NotSupportedException();
    public void CommitTransaction() => throw new NotSupportedException();
    public void AbortTransaction(TimeSpan timeout) => throw new NotSupportedException();
    public void AbortTransaction() => throw new NotSupportedException();
    public void SendOffsetsToTransaction(IEnumerable<TopicPartitionOffset> offsets, IConsumerGroupMetadata groupMetadata, TimeSpan timeout) => throw new NotSupportedException();
    public void SetSaslCredentials(string username, string password) => throw new NotSupportedException();
    public int AddBrokers(string brokers) => inner?.AddBrokers(brokers) ?? 0;
    public Handle Handle => inner?.Handle ?? throw new NotSupportedException();
    public string Name => inner?.Name ?? "test";
    public void Dispose() { }
}
