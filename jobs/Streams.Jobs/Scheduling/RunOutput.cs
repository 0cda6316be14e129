using Confluent.Kafka;
using Microsoft.Extensions.Logging;
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

    /// <summary>After a flush: where each partition written to ended ("topic:partition" → next offset).</summary>
    IReadOnlyDictionary<string, long> Marks { get; }

    /// <summary>Where every partition a run may write to ends now: the marks a plan starts from.</summary>
    Task<IReadOnlyDictionary<string, long>> EndsAsync(CancellationToken ct);

    /// <summary>The users a run (by its request ids' key) already has requests for, written after these marks.</summary>
    Task<IReadOnlySet<string>> ProducedSinceAsync(IReadOnlyDictionary<string, long> marks, string runKey, CancellationToken ct);
}

/// <summary>Produces without waiting per record (the producer batches); a flush waits for every acknowledgement.</summary>
public sealed class KafkaRunOutput(IProducer<string, byte[]> producer, Topics topics, string bootstrap, ILogger logger) : IRunOutput
{
    private volatile Error? _failed;
    private readonly Dictionary<string, long> _marks = [];

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
        if (r.Error.IsError)
        {
            _failed ??= r.Error;
            return;
        }
        var key = $"{r.Topic}:{r.Partition.Value}";
        lock (_marks) _marks[key] = Math.Max(_marks.GetValueOrDefault(key), r.Offset.Value + 1);
    }

    public IReadOnlyDictionary<string, long> Marks
    {
        get { lock (_marks) return new Dictionary<string, long>(_marks); }
    }

    public Task<IReadOnlyDictionary<string, long>> EndsAsync(CancellationToken ct) => Task.Run<IReadOnlyDictionary<string, long>>(() =>
    {
        using var consumer = KafkaClients.Reader(bootstrap, "scheduler-ends", logger);
        var ends = new Dictionary<string, long>();
        foreach (var topic in new Topic[] { topics.Requests, topics.Scheduled })
        {
            foreach (var (p, end) in TopicReader.Ends(consumer, topic)) ends[$"{p.Topic}:{p.Partition.Value}"] = end;
        }
        return ends;
    }, ct);

    /// <summary>Reads each partition from its mark to its end (a partition without one, created since, from its end).</summary>
    public Task<IReadOnlySet<string>> ProducedSinceAsync(IReadOnlyDictionary<string, long> marks, string runKey, CancellationToken ct) => Task.Run<IReadOnlySet<string>>(() =>
    {
        var users = new HashSet<string>(StringComparer.Ordinal);
        using var consumer = KafkaClients.Reader(bootstrap, "scheduler-resume", logger);
        foreach (var topic in new Topic[] { topics.Requests, topics.Scheduled })
        {
            var ends = TopicReader.Ends(consumer, topic);
            var from = ends.Keys.Select(p => new TopicPartitionOffset(p, marks.TryGetValue($"{p.Topic}:{p.Partition.Value}", out var m) ? m : ends[p])).ToList();
            var remaining = from.Where(p => p.Offset.Value < ends[p.TopicPartition]).ToDictionary(p => p.TopicPartition, p => ends[p.TopicPartition]);
            if (remaining.Count == 0) continue;
            consumer.Assign(from.Where(p => remaining.ContainsKey(p.TopicPartition)));
            while (remaining.Count > 0 && !ct.IsCancellationRequested)
            {
                var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (r is null) continue;
                if (r.Offset.Value + 1 >= remaining[r.TopicPartition]) remaining.Remove(r.TopicPartition);
                var request = topic == topics.Requests ? topics.Requests.TryDecode(r.Message.Value).Value : topics.Scheduled.TryDecode(r.Message.Value).Value?.Request;
                if (request?.RequestId.StartsWith(runKey + "-", StringComparison.Ordinal) == true) users.Add(request.UserId);
            }
            consumer.Unassign();
        }
        return users;
    }, ct);

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

/// <summary>
/// A run's requests kept in memory (the simulator's, tests'): a mark is how many were given, and what was given past
/// a mark is what a resumed plan finds already produced.
/// </summary>
public sealed class MemoryRunOutput : IRunOutput
{
    public List<SmsRequest> Requests { get; } = [];
    public List<ScheduledRequest> Waiting { get; } = [];

    /// <summary>Called at every flush (a test stops a plan there).</summary>
    public Action? Flushed { get; set; }

    private readonly List<SmsRequest> _all = [];

    public void Request(SmsRequest request)
    {
        Requests.Add(request);
        _all.Add(request);
    }

    public void Scheduled(ScheduledRequest scheduled)
    {
        Waiting.Add(scheduled);
        _all.Add(scheduled.Request);
    }

    public Task FlushAsync(CancellationToken ct)
    {
        Flushed?.Invoke();
        return Task.CompletedTask;
    }

    public IReadOnlyDictionary<string, long> Marks => new Dictionary<string, long> { [Mark] = _all.Count };

    public Task<IReadOnlyDictionary<string, long>> EndsAsync(CancellationToken ct) => Task.FromResult(Marks);

    public Task<IReadOnlySet<string>> ProducedSinceAsync(IReadOnlyDictionary<string, long> marks, string runKey, CancellationToken ct) =>
        Task.FromResult<IReadOnlySet<string>>(_all.Skip((int)marks.GetValueOrDefault(Mark)).Where(r => r.RequestId.StartsWith(runKey + "-", StringComparison.Ordinal))
            .Select(r => r.UserId).ToHashSet(StringComparer.Ordinal));

    /// <summary>The requests given so far are taken (marks keep counting).</summary>
    public void Clear()
    {
        Requests.Clear();
        Waiting.Clear();
    }

    public const string Mark = "memory:0";
}
