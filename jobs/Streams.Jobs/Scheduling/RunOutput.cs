using Confluent.Kafka;
using Streams.Core;
using Streams.Kafka;

namespace Streams.Jobs.Scheduling;

/// <summary>Where a run's requests go: due now to sms.requests, waiting for a user's local time to sms.scheduled.</summary>
public interface IRunOutput
{
    void Request(SmsRequest request);

    void Scheduled(ScheduledRequest scheduled);

    /// <summary>Returns once everything given so far is in Kafka (throws if any of it could not be).</summary>
    Task FlushAsync(CancellationToken ct);
}

/// <summary>Produces without waiting per record (the producer batches); a flush waits for every acknowledgement.</summary>
public sealed class KafkaRunOutput(IProducer<string, byte[]> producer, Topics topics) : IRunOutput
{
    private volatile Error? _failed;

    public void Request(SmsRequest request) => Produce(topics.Requests.Name, request.UserId, topics.Requests.Codec.Encode(request));

    public void Scheduled(ScheduledRequest scheduled) => Produce(topics.Scheduled.Name, scheduled.Request.UserId, topics.Scheduled.Codec.Encode(scheduled));

    private void Produce(string topic, string key, byte[] value)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, new Message<string, byte[]> { Key = key, Value = value }, Report);
                return;
            }
            catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(100));
            }
        }
    }

    private void Report(DeliveryReport<string, byte[]> r)
    {
        if (r.Error.IsError) _failed ??= r.Error;
    }

    public Task FlushAsync(CancellationToken ct) => Task.Run(() =>
    {
        while (producer.Flush(TimeSpan.FromMilliseconds(500)) > 0) ct.ThrowIfCancellationRequested();
        if (_failed is { } error)
        {
            _failed = null;
            throw new KafkaException(error);
        }
    }, CancellationToken.None);
}
