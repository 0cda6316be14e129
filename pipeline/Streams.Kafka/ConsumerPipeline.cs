using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Streams.Kafka;

/// <summary>A record that decoded, and where it came from. <see cref="Value"/> is null only for a tombstone of a
/// topic read with tombstones.</summary>
public sealed record Received(ConsumeResult<string, byte[]> Source, object? Value)
{
    public string Topic => Source.Topic;
    public string Key => Source.Message.Key;
}

/// <summary>What becomes of a record that does not decode.</summary>
public enum Undecodable
{
    /// <summary>To sms.dlq with the reason (this stage owns the topic's validation).</summary>
    DeadLetter,

    /// <summary>Passed over: the stage that owns the topic dead-letters it.</summary>
    Skip,

    /// <summary>Passed over with a warning.</summary>
    Log,
}

/// <summary>Hands a batch of decoded records over; returns the ones it did not finish (null or empty: all finished).</summary>
public delegate Task<IReadOnlyCollection<Received>?> BatchHandler(IReadOnlyList<Received> batch);

/// <summary>
/// The one consumer loop: poll up to <see cref="MaxBatch"/> records (waiting at most <see cref="FirstWait"/> for the
/// first), decode each with its topic's codec, dead-letter (or pass over) what does not decode, hand the typed records
/// to a small handler, then store each partition's offset up to the first record the handler did not finish, so
/// auto-commit only ever commits what was finished and dead letters Kafka acknowledged. At-least-once; handlers are
/// idempotent.
/// </summary>
public sealed class ConsumerPipeline(string name, ILogger logger)
{
    private readonly Dictionary<string, Reading> _reads = [];
    private IProducer<string, byte[]>? _deadLetters;
    private string? _dlq;

    public int MaxBatch { get; init; } = 500;
    public TimeSpan FirstWait { get; init; } = TimeSpan.FromMilliseconds(100);

    public IReadOnlyCollection<string> TopicNames => _reads.Keys;

    /// <summary>Told of every polled batch, undecodable records included, once it is handled (for readers that
    /// track how far they have read).</summary>
    public Action<IReadOnlyList<ConsumeResult<string, byte[]>>>? Handled { get; init; }

    /// <param name="maxBytes">Values over this size are refused (oversize): input from outside has a limit, what
    /// this pipeline wrote itself has none.</param>
    public ConsumerPipeline Read<T>(Topic<T> topic, Undecodable undecodable, int maxBytes = int.MaxValue, bool tombstones = false) where T : class
    {
        if (undecodable == Undecodable.DeadLetter && _deadLetters is null)
            throw new InvalidOperationException($"{name}: dead letters for {topic} need DeadLetterTo first");
        _reads[topic.Name] = new Reading(bytes => topic.Codec.Decode(bytes, maxBytes, topic.Registry), undecodable, tombstones);
        return this;
    }

    public ConsumerPipeline DeadLetterTo(IProducer<string, byte[]> producer, Topic dlq)
    {
        _deadLetters = producer;
        _dlq = dlq;
        return this;
    }

    /// <summary>As a member of <paramref name="groupId"/>: offsets are stored and committed; closing leaves the group.</summary>
    public async Task RunAsync(KafkaSettings kafka, string groupId, BatchHandler handle, CancellationToken stop)
    {
        using var consumer = KafkaClients.GroupMember(kafka, groupId, name, logger);
        consumer.Subscribe(TopicNames);
        lock (Members) Members[consumer] = groupId;
        try
        {
            await RunAsync(consumer, handle, storeOffsets: true, stop);
        }
        finally
        {
            lock (Members) Members.Remove(consumer);
        }
    }

    /// <summary>The group members of this process, for the lag gauge: removed before they close.</summary>
    private static readonly Dictionary<IConsumer<string, byte[]>, string> Members = [];

    private static readonly ObservableGauge<long> Lag = Telemetry.Meter.CreateObservableGauge("streams_consumer_lag", ObserveLag,
        description: "Records not yet consumed, per consumer group and partition this process holds (end offset minus position).");

    private static List<Measurement<long>> ObserveLag()
    {
        var lags = new List<Measurement<long>>();
        lock (Members)
        {
            foreach (var (consumer, group) in Members)
            {
                foreach (var tp in consumer.Assignment)
                {
                    var end = consumer.GetWatermarkOffsets(tp).High;
                    var position = consumer.Position(tp);
                    if (end == Offset.Unset || position == Offset.Unset) continue;
                    lags.Add(new Measurement<long>(Math.Max(0, end.Value - position.Value),
                        new KeyValuePair<string, object?>("group", group), new KeyValuePair<string, object?>("topic", tp.Topic),
                        new KeyValuePair<string, object?>("partition", tp.Partition.Value)));
                }
            }
        }
        return lags;
    }

    /// <param name="stop">Stops polling; the batch in hand is finished (or left unfinished) by the handler, then the
    /// loop commits and closes.</param>
    /// <remarks>The loop has a thread of its own: polling blocks, and a blocked pool thread slows everything else in
    /// the process (the embedded Redis answers on the pool too). The handler's awaits run on the pool.</remarks>
    public Task RunAsync(IConsumer<string, byte[]> consumer, BatchHandler handle, bool storeOffsets, CancellationToken stop) =>
        Task.Factory.StartNew(() => Loop(consumer, handle, storeOffsets, stop), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Loop(IConsumer<string, byte[]> consumer, BatchHandler handle, bool storeOffsets, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var batch = Poll(consumer, stop);
                if (batch.Count == 0) continue;
                var deadLetters = new List<Task>();
                var decoded = new List<Received>(batch.Count);
                foreach (var record in batch)
                {
                    var (received, error) = Decode(record);
                    if (received is not null) decoded.Add(received);
                    else if (_reads[record.Topic].Undecodable == Undecodable.DeadLetter)
                        deadLetters.Add(_deadLetters!.ProduceAsync(_dlq!, DeadLetters.For(record, error!, name), CancellationToken.None));
                }
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var unfinished = decoded.Count == 0 ? null : handle(decoded).GetAwaiter().GetResult();
                Task.WhenAll(deadLetters).GetAwaiter().GetResult();
                Telemetry.BatchDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("consumer", name));
                if (storeOffsets) Store(consumer, batch, unfinished?.Select(r => r.Source).ToHashSet());
                Handled?.Invoke(batch);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            if (storeOffsets)
            {
                // Committed synchronously before the group hears of the leave, so the next owner starts right after
                // what was finished rather than wherever the last background commit got to.
                try { consumer.Commit(); }
                catch (KafkaException e) when (e.Error.Code is ErrorCode.Local_NoOffset) { }
                catch (KafkaException e)
                {
                    // Not fatal: what was not committed is handled again by the next owner (handlers are idempotent).
                    logger.LogWarning("{Name}: final commit failed ({Reason}); the last records will be handled again", name, e.Error.Reason);
                }
                // Leaves the group (a static member keeps its place for the session timeout).
                consumer.Close();
            }
        }
    }

    private (Received?, DecodeException?) Decode(ConsumeResult<string, byte[]> record)
    {
        var reading = _reads[record.Topic];
        if (record.Message.Value is null && reading.Tombstones) return (new Received(record, null), null);
        try
        {
            return (new Received(record, reading.Decode(record.Message.Value)), null);
        }
        catch (DecodeException e)
        {
            if (reading.Undecodable == Undecodable.Log)
                logger.LogWarning("{Name}: record at {Source} passed over: {Error}", name, record.TopicPartitionOffset, e.Message);
            return (null, e);
        }
    }

    /// <summary>
    /// Per partition: up to the first unfinished record, else past the last. The consumer is moved back to the first
    /// unfinished record, so it and what follows come again in the next batch (or to the next owner after a stop).
    /// </summary>
    private static void Store(IConsumer<string, byte[]> consumer, List<ConsumeResult<string, byte[]>> batch, HashSet<ConsumeResult<string, byte[]>>? unfinished)
    {
        foreach (var partition in batch.GroupBy(m => m.TopicPartition))
        {
            var ordered = partition.OrderBy(m => m.Offset.Value).ToList();
            var first = unfinished is { Count: > 0 } ? ordered.FirstOrDefault(unfinished.Contains) : null;
            try
            {
                if (first is null) consumer.StoreOffset(ordered[^1]);
                else
                {
                    if (first != ordered[0]) consumer.StoreOffset(new TopicPartitionOffset(partition.Key, first.Offset));
                    consumer.Seek(new TopicPartitionOffset(partition.Key, first.Offset));
                }
            }
            catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_State)
            {
                // The partition was revoked meanwhile (rebalance): its new owner handles the batch again.
            }
        }
    }

    private List<ConsumeResult<string, byte[]>> Poll(IConsumer<string, byte[]> consumer, CancellationToken ct)
    {
        var batch = new List<ConsumeResult<string, byte[]>>();
        var first = consumer.Consume(FirstWait);
        if (first is null) return batch;
        batch.Add(first);
        while (batch.Count < MaxBatch && !ct.IsCancellationRequested && consumer.Consume(TimeSpan.Zero) is { } next) batch.Add(next);
        return batch;
    }

    private sealed record Reading(Func<byte[]?, object> Decode, Undecodable Undecodable, bool Tombstones);
}
