using Confluent.Kafka;

namespace Streams.Dispatcher;

/// <summary>
/// The batching around a consumer handler: poll up to <c>maxBatch</c> records (waiting at most
/// <c>firstWait</c> for the first), hand them over, then store each partition's last offset, so
/// auto-commit only ever commits what the handler finished. At-least-once; handlers are idempotent.
/// </summary>
public static class BatchLoop
{
    /// <summary>A consumer for this loop: offsets are stored only by the loop and committed in the background.</summary>
    public static IConsumer<string, byte[]> Consumer(string bootstrap, string groupId, string name, Microsoft.Extensions.Logging.ILogger logger) =>
        new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = groupId,
            EnableAutoCommit = true,
            AutoCommitIntervalMs = 200,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            AllowAutoCreateTopics = true,
            SessionTimeoutMs = 10000,
        }).SetErrorHandler((_, e) => Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(logger, "{Name} consumer: {Reason}", name, e.Reason)).Build();

    public static async Task RunAsync(
        IConsumer<string, byte[]> consumer,
        int maxBatch,
        TimeSpan firstWait,
        Func<List<ConsumeResult<string, byte[]>>, CancellationToken, Task> handle,
        CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var batch = await Task.Run(() => Poll(consumer, maxBatch, firstWait, ct), ct);
                if (batch.Count == 0) continue;
                await handle(batch, ct);
                foreach (var last in batch.GroupBy(m => m.TopicPartition).Select(g => g.MaxBy(m => m.Offset.Value)!))
                    consumer.StoreOffset(last);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            consumer.Close();
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
