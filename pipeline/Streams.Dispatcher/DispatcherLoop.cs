using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Serdes;

namespace Streams.Dispatcher;

public sealed record DispatcherOptions
{
    public required string Bootstrap { get; init; }
    public Topics Topics { get; init; } = Topics.Default;
    public string GroupId { get; init; } = "streams-dispatcher";
    public int MaxBatch { get; init; } = 500;
    public int MaxInputBytes { get; init; } = RecordCodec<SmsRequest>.DefaultMaxBytes;
}

/// <summary>
/// The consumer group over sms.requests. At-least-once: a batch's offsets are stored only after
/// every result of the batch is acknowledged by Kafka; the handler makes redelivery harmless.
/// </summary>
public sealed class DispatcherLoop(DispatcherOptions options, RequestHandler handler, IProducer<string, byte[]> producer, ILogger logger)
{
    public long Handled => Interlocked.Read(ref _handled);
    private long _handled;

    public async Task RunAsync(CancellationToken ct)
    {
        using var consumer = BatchLoop.Consumer(options.Bootstrap, options.GroupId, "dispatcher", logger);
        consumer.Subscribe(options.Topics.Requests);
        await BatchLoop.RunAsync(consumer, options.MaxBatch, TimeSpan.FromMilliseconds(100), HandleBatchAsync, ct);
    }

    private async Task HandleBatchAsync(List<ConsumeResult<string, byte[]>> batch, CancellationToken ct)
    {
        var acks = new List<Task>(batch.Count);
        var requests = new List<SmsRequest>(batch.Count);
        foreach (var message in batch)
        {
            var decoded = Codecs.SmsRequest.TryDecode(message.Message.Value, options.MaxInputBytes);
            if (decoded.Ok) requests.Add(decoded.Value!);
            else acks.Add(producer.ProduceAsync(options.Topics.Dlq, DeadLetter(message, decoded.Error!), ct));
        }
        var output = await handler.HandleBatchAsync(requests, ct);
        foreach (var result in output.Results)
        {
            acks.Add(producer.ProduceAsync(options.Topics.Results,
                new Message<string, byte[]> { Key = result.UserId, Value = Codecs.SmsResult.Encode(result) }, ct));
            Interlocked.Increment(ref _handled);
        }
        foreach (var record in output.Completed)
        {
            // Same version, new status: every dispatcher that sees the limit full writes the same record.
            logger.LogInformation("campaign {CampaignId} reached its reach limit: completed", record.Id);
            acks.Add(producer.ProduceAsync(options.Topics.Campaigns,
                new Message<string, byte[]> { Key = record.Id, Value = Codecs.CampaignRecord.Encode(record) }, ct));
        }
        foreach (var waiting in output.Delayed)
        {
            acks.Add(producer.ProduceAsync(options.Topics.Scheduled,
                new Message<string, byte[]> { Key = waiting.Request.UserId, Value = Codecs.ScheduledRequest.Encode(waiting) }, ct));
        }
        await Task.WhenAll(acks);
    }

    public static Message<string, byte[]> DeadLetter(ConsumeResult<string, byte[]> source, DecodeException error, string stage = "dispatcher")
    {
        var headers = new Headers();
        foreach (var h in source.Message.Headers ?? []) headers.Add(h.Key, h.GetValueBytes());
        void Add(string k, string v) => headers.Add(k, Encoding.UTF8.GetBytes(v));
        Add(DlqHeaders.Reason, error.Reason);
        Add(DlqHeaders.Error, error.Message);
        Add(DlqHeaders.SourceTopic, source.Topic);
        Add(DlqHeaders.SourcePartition, source.Partition.Value.ToString(CultureInfo.InvariantCulture));
        Add(DlqHeaders.SourceOffset, source.Offset.Value.ToString(CultureInfo.InvariantCulture));
        Add(DlqHeaders.Stage, stage);
        return new Message<string, byte[]> { Key = source.Message.Key, Value = source.Message.Value ?? [], Headers = headers };
    }
}

/// <summary>Delivery reports to sms.results, each (request, status) emitted once even if a report is replayed.</summary>
public sealed class ResultsReporter(IProducer<string, byte[]> producer, Topics topics, Counters.ICounterStore counters, ILogger logger)
    : Providers.IDeliveryReports, Webhooks.IResultSink
{
    /// <summary>For webhooks: stored once, and only marked as stored once Kafka has it (a failed produce takes the mark back).</summary>
    public async Task<bool> StoreOnceAsync(SmsResult result)
    {
        var key = $"report:{result.RequestId}:{result.Status}";
        if (!await counters.TryMarkOnceAsync(key, RequestHandler.KeepSendKeys)) return false;
        try
        {
            await producer.ProduceAsync(topics.Results, new Message<string, byte[]> { Key = result.UserId, Value = Codecs.SmsResult.Encode(result) });
        }
        catch
        {
            await counters.UnmarkOnceAsync(key);
            throw;
        }
        await counters.IncrementAsync(result.CampaignId, result.Status);
        return true;
    }

    public async Task ReportAsync(SmsResult result)
    {
        try
        {
            await StoreOnceAsync(result);
        }
        catch (Exception e) when (e is KafkaException or ObjectDisposedException)
        {
            logger.LogWarning("delivery report for {RequestId} not written: {Error}", result.RequestId, e.Message);
        }
    }
}
