using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Kafka;

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
    private readonly string _bootstrap;
    private readonly string _topic;
    // Per partition, the offset after the last record applied.
    private readonly Dictionary<TopicPartition, long> _read = [];

    /// <summary>How long <see cref="CatchUpAsync"/> waits for the records written before it at most.</summary>
    public static readonly TimeSpan CatchUpWithin = TimeSpan.FromSeconds(10);

    public CampaignCache(string bootstrap, Topics topics, ILogger logger)
    {
        _logger = logger;
        _bootstrap = bootstrap;
        _topic = topics.Campaigns;
        _loop = Task.Run(() => RunAsync(bootstrap, topics.Campaigns));
    }

    /// <summary>
    /// Waits until every record sms.campaigns holds now is applied. A campaign applied a moment ago reaches the
    /// topology and this cache separately: a request for it may come first, and is judged once the cache has it,
    /// not suppressed as unknown.
    /// </summary>
    public async Task CatchUpAsync()
    {
        Dictionary<TopicPartition, long> ends;
        try
        {
            using var consumer = KafkaClients.Reader(_bootstrap, "campaign cache catch-up", _logger);
            ends = TopicReader.Ends(consumer, _topic);
        }
        catch (KafkaException e)
        {
            _logger.LogWarning("campaign cache: could not read where {Topic} ends ({Reason}); judging with what it has", _topic, e.Error.Reason);
            return;
        }
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!ends.All(e => e.Value == 0 || Read(e.Key) >= e.Value))
        {
            if (waited.Elapsed > CatchUpWithin || _stop.IsCancellationRequested)
            {
                _logger.LogWarning("campaign cache: not caught up with {Topic} within {Seconds:0} s; judging with what it has", _topic, CatchUpWithin.TotalSeconds);
                return;
            }
            await Task.Delay(10);
        }
    }

    private long Read(TopicPartition partition)
    {
        lock (_lock) return _read.GetValueOrDefault(partition);
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

    private async Task RunAsync(string bootstrap, Topic<CampaignRecord> topic)
    {
        try
        {
            using var consumer = KafkaClients.Reader(bootstrap, "campaign cache", _logger);
            var (partitions, remaining) = StartPosition(consumer, topic);
            consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
            if (remaining.Count == 0) _caughtUp.TrySetResult();

            var pipeline = new ConsumerPipeline("campaign cache", _logger)
            {
                Handled = batch =>
                {
                    lock (_lock)
                    {
                        foreach (var record in batch) _read[record.TopicPartition] = Math.Max(_read.GetValueOrDefault(record.TopicPartition), record.Offset.Value + 1);
                    }
                    foreach (var record in batch)
                    {
                        if (remaining.TryGetValue(record.TopicPartition, out var end) && record.Offset.Value + 1 >= end)
                            remaining.Remove(record.TopicPartition);
                    }
                    if (remaining.Count == 0) _caughtUp.TrySetResult();
                },
            }.Read(topic, Undecodable.Log, tombstones: true);
            await pipeline.RunAsync(consumer, batch =>
            {
                foreach (var record in batch) Apply(record);
                return Task.FromResult<IReadOnlyCollection<Received>?>(null);
            }, storeOffsets: false, _stop.Token);
            consumer.Close();
        }
        catch (Exception e) when (e is KafkaException or OperationCanceledException)
        {
            _caughtUp.TrySetException(e);
            if (!_stop.IsCancellationRequested) _logger.LogError(e, "campaign cache stopped");
        }
    }

    /// <summary>The topic's partitions and where each ends now; a broker that is slow to answer is asked again.</summary>
    private (List<TopicPartition>, Dictionary<TopicPartition, long>) StartPosition(IConsumer<string, byte[]> consumer, string topic)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var ends = TopicReader.Ends(consumer, topic);
                return (ends.Keys.ToList(), ends.Where(e => e.Value > 0).ToDictionary());
            }
            catch (KafkaException e) when (attempt < 10 && !_stop.IsCancellationRequested)
            {
                _logger.LogWarning("campaign cache: reading {Topic} failed ({Reason}); retrying", topic, e.Error.Reason);
                _stop.Token.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(200 * attempt));
            }
        }
    }

    private void Apply(Received received)
    {
        if (received.Value is not CampaignRecord record)
        {
            lock (_lock) _entries.Remove(received.Key);
            return;
        }
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
