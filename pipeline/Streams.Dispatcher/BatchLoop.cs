using Confluent.Kafka;

namespace Streams.Dispatcher;

/// <summary>
/// The batching around a consumer handler: poll up to <c>maxBatch</c> records (waiting at most <c>firstWait</c> for
/// the first), hand them over, then store each partition's offset up to the first record the handler did not finish,
/// so auto-commit only ever commits what the handler finished. At-least-once; handlers are idempotent.
/// </summary>
public static class BatchLoop
{
    /// <summary>
    /// A consumer for this loop: offsets are stored only by the loop and committed in the background and at close.
    /// With an <paramref name="instanceId"/> the member is static (group.instance.id): a restarted instance takes its
    /// partitions back without a rebalance, and a dead one's move after the session timeout. Cooperative rebalancing
    /// keeps the other members consuming while partitions move.
    /// </summary>
    public static IConsumer<string, byte[]> Consumer(string bootstrap, string groupId, string name, Microsoft.Extensions.Logging.ILogger logger,
        string? instanceId = null, string? groupProtocol = null)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = groupId,
            EnableAutoCommit = true,
            AutoCommitIntervalMs = 200,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            AllowAutoCreateTopics = true,
        };
        if (groupProtocol == "consumer")
        {
            // KIP-848: the broker assigns, incrementally; session and heartbeat are the broker's settings.
            config.GroupProtocol = GroupProtocol.Consumer;
        }
        else
        {
            config.SessionTimeoutMs = 10000;
            config.HeartbeatIntervalMs = 1000;
            config.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky;
        }
        if (instanceId is not null) config.GroupInstanceId = instanceId;
        return new ConsumerBuilder<string, byte[]>(config)
            .SetErrorHandler((_, e) => Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(logger, "{Name} consumer: {Reason}", name, e.Reason))
            .Build();
    }

    /// <param name="handle">Handles a batch; returns the records it did not finish (null or empty: all of them).</param>
    /// <param name="stop">Stops polling; the batch in hand is finished (or left unfinished) by the handler, then the loop commits and closes.</param>
    public static async Task RunAsync(
        IConsumer<string, byte[]> consumer,
        int maxBatch,
        TimeSpan firstWait,
        Func<List<ConsumeResult<string, byte[]>>, Task<IReadOnlySet<ConsumeResult<string, byte[]>>?>> handle,
        CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var batch = await Task.Run(() => Poll(consumer, maxBatch, firstWait, stop));
                if (batch.Count == 0) continue;
                var unfinished = await handle(batch);
                Store(consumer, batch, unfinished);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            // Commits the stored offsets and leaves the group (a static member keeps its place for the session timeout).
            consumer.Close();
        }
    }

    /// <summary>
    /// Per partition: up to the first unfinished record, else past the last. The consumer is moved back to the first
    /// unfinished record, so it and what follows come again in the next batch (or to the next owner after a stop).
    /// </summary>
    private static void Store(IConsumer<string, byte[]> consumer, List<ConsumeResult<string, byte[]>> batch, IReadOnlySet<ConsumeResult<string, byte[]>>? unfinished)
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

    private static List<ConsumeResult<string, byte[]>> Poll(IConsumer<string, byte[]> consumer, int maxBatch, TimeSpan firstWait, CancellationToken ct)
    {
        var batch = new List<ConsumeResult<string, byte[]>>();
        var first = consumer.Consume(firstWait);
        if (first is null) return batch;
        batch.Add(first);
        while (batch.Count < maxBatch && !ct.IsCancellationRequested && consumer.Consume(TimeSpan.Zero) is { } next) batch.Add(next);
        return batch;
    }
}
