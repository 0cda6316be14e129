using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Serdes;

namespace Streams.Dispatcher;

/// <summary>
/// The latest record of every campaign, read from the compacted sms.campaigns topic from the
/// beginning and followed live (no consumer group: every instance reads everything).
/// </summary>
public sealed class CampaignCache : ICampaignView, IAsyncDisposable
{
    private readonly Dictionary<string, CampaignEntry> _entries = [];
    private readonly object _lock = new();
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly ILogger _logger;

    public CampaignCache(string bootstrap, Topics topics, ILogger logger)
    {
        _logger = logger;
        _loop = Task.Factory.StartNew(() => Run(bootstrap, topics.Campaigns), TaskCreationOptions.LongRunning);
    }

    public CampaignEntry? Get(string campaignId)
    {
        lock (_lock) return _entries.GetValueOrDefault(campaignId);
    }

    public IReadOnlyList<CampaignEntry> All()
    {
        lock (_lock) return [.. _entries.Values.OrderBy(e => e.Record.Id, StringComparer.Ordinal)];
    }

    /// <summary>Completes once every campaign that existed at start-up has been read.</summary>
    public Task CaughtUp => _caughtUp.Task;

    /// <summary>Reads the topic to its current end once, for the CLI.</summary>
    public static async Task<IReadOnlyList<CampaignEntry>> ReadAllAsync(string bootstrap, Topics topics, ILogger logger, TimeSpan timeout)
    {
        await using var cache = new CampaignCache(bootstrap, topics, logger);
        var done = await Task.WhenAny(cache.CaughtUp, Task.Delay(timeout));
        if (done != cache.CaughtUp) throw new TimeoutException($"could not read {topics.Campaigns} from {bootstrap} within {timeout.TotalSeconds:0}s");
        await cache.CaughtUp;
        return cache.All();
    }

    private void Run(string bootstrap, string topic)
    {
        try
        {
            using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
            {
                BootstrapServers = bootstrap,
                GroupId = "streams-campaign-cache", // required by the client; offsets are never committed
                EnableAutoCommit = false,
                AllowAutoCreateTopics = true,
            }).SetErrorHandler((_, e) => _logger.LogWarning("campaign cache: {Reason}", e.Reason)).Build();

            var (partitions, remaining) = StartPosition(consumer, bootstrap, topic);
            consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
            if (remaining.Count == 0) _caughtUp.TrySetResult();

            while (!_stop.IsCancellationRequested)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (result is null) continue;
                Apply(result);
                if (remaining.TryGetValue(result.TopicPartition, out var end) && result.Offset.Value + 1 >= end)
                {
                    remaining.Remove(result.TopicPartition);
                    if (remaining.Count == 0) _caughtUp.TrySetResult();
                }
            }
            consumer.Close();
        }
        catch (Exception e) when (e is KafkaException or OperationCanceledException)
        {
            _caughtUp.TrySetException(e);
            if (!_stop.IsCancellationRequested) _logger.LogError(e, "campaign cache stopped");
        }
    }

    /// <summary>The topic's partitions and where each ends now; a broker that is slow to answer is asked again.</summary>
    private (List<TopicPartition>, Dictionary<TopicPartition, long>) StartPosition(IConsumer<string, byte[]> consumer, string bootstrap, string topic)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var partitions = Partitions(bootstrap, topic);
                var ends = partitions
                    .Select(p => (p, consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High))
                    .Where(x => x.High > 0)
                    .ToDictionary(x => x.p, x => x.High.Value);
                return (partitions, ends);
            }
            catch (KafkaException e) when (attempt < 10 && !_stop.IsCancellationRequested)
            {
                _logger.LogWarning("campaign cache: reading {Topic} failed ({Reason}); retrying", topic, e.Error.Reason);
                _stop.Token.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(200 * attempt));
            }
        }
    }

    private static List<TopicPartition> Partitions(string bootstrap, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap, AllowAutoCreateTopics = true }).Build();
        var meta = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
        return meta.Topics.Single().Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
    }

    private void Apply(ConsumeResult<string, byte[]> result)
    {
        if (result.Message.Value is null)
        {
            lock (_lock) _entries.Remove(result.Message.Key);
            return;
        }
        var decoded = Codecs.CampaignRecord.TryDecode(result.Message.Value, int.MaxValue);
        if (!decoded.Ok)
        {
            _logger.LogWarning("campaign record at {Tpo} ignored: {Error}", result.TopicPartitionOffset, decoded.Error!.Message);
            return;
        }
        var record = decoded.Value!;
        lock (_lock)
        {
            if (_entries.TryGetValue(record.Id, out var existing) && existing.Record.Version > record.Version) return;
        }
        var entry = CampaignEntry.From(record);
        lock (_lock) _entries[record.Id] = entry;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
