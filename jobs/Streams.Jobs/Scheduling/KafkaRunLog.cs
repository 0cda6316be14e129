using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streams.Core.Schedules;
using Streams.Kafka;

namespace Streams.Jobs.Scheduling;

/// <summary>
/// sms.runs as the scheduler group sees it. Every scheduler joins the group; the one assigned partition 0 (the
/// topic's only partition on a cluster set up by `streams topics create`) owns the runs: it reads them from the
/// beginning (nothing is ever committed) and, once it has read to the end, plans. A member that dies loses the
/// partition after the session timeout and the next owner resumes every half-planned run from its cursor. Operators'
/// records (approve, stop) arrive through the same partition.
/// </summary>
public sealed class KafkaRunLog : IRunLog, IAsyncDisposable
{
    public const string GroupId = "streams-scheduler";

    private readonly Topics _topics;
    private readonly IProducer<string, byte[]> _producer;
    private readonly ILogger _logger;
    private readonly TopicPartition _partition;
    private readonly object _lock = new();
    private readonly Dictionary<string, RunRecord> _runs = new(StringComparer.Ordinal);
    private readonly HashSet<RunRecord> _ownWrites = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private volatile bool _owner;

    public KafkaRunLog(KafkaSettings kafka, Topics topics, IProducer<string, byte[]> producer, ILogger logger)
    {
        _topics = topics;
        _producer = producer;
        _logger = logger;
        _partition = new TopicPartition(topics.Runs.Name, 0);
        // A thread of its own: the loop blocks in Consume for as long as the scheduler runs.
        _loop = Task.Factory.StartNew(() => Loop(kafka), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public bool IsOwner => _owner;

    private long _read;

    /// <summary>Records of sms.runs this scheduler has read (its own included) since it started.</summary>
    public long RecordsRead => Interlocked.Read(ref _read);

    public IReadOnlyCollection<RunRecord> Runs
    {
        get { lock (_lock) return [.. _runs.Values]; }
    }

    public RunRecord? Get(string runId)
    {
        lock (_lock) return _runs.GetValueOrDefault(runId);
    }

    /// <summary>This scheduler, as the records it writes name it.</summary>
    public static string Name { get; } = $"{Environment.MachineName}/{Environment.ProcessId}";

    public async Task<bool> SaveAsync(RunRecord run, CancellationToken ct)
    {
        if (!_owner) return false;
        // The record as sms.runs will give it back (milliseconds), so it is known for this scheduler's own when read.
        run = run with { Planner = Name, UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(run.UpdatedAt.ToUnixTimeMilliseconds()) };
        lock (_lock)
        {
            _runs[run.RunId] = run;
            _ownWrites.Add(run);
        }
        await _producer.ProduceAsync(_partition, _topics.Runs.Message(run.RunId, run), ct);
        return _owner;
    }

    private void Loop(KafkaSettings kafka)
    {
        using var consumer = KafkaClients.GroupMember(kafka, GroupId, "scheduler", _logger);
        consumer.Subscribe(_topics.Runs.Name);
        long? catchUpTo = null;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var owns = consumer.Assignment.Contains(_partition);
                if (!owns && (_owner || catchUpTo is not null))
                {
                    _logger.LogInformation("scheduler: no longer owns {Topic}", _partition);
                    (_owner, catchUpTo) = (false, null);
                }
                else if (owns && catchUpTo is null)
                {
                    // A fresh owner reads the runs again from the beginning.
                    lock (_lock)
                    {
                        _runs.Clear();
                        _ownWrites.Clear();
                    }
                    catchUpTo = consumer.QueryWatermarkOffsets(_partition, TimeSpan.FromSeconds(10)).High.Value;
                    _logger.LogInformation("scheduler: owns {Topic}; reading {Records} records of runs", _partition, catchUpTo);
                }
                var record = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (record is not null && record.TopicPartition == _partition) Apply(record);
                if (owns && !_owner && catchUpTo is { } end && (end == 0 || consumer.Position(_partition).Value >= end))
                {
                    _owner = true;
                    _logger.LogInformation("scheduler: caught up with {Runs} runs; this scheduler plans", Runs.Count);
                }
            }
            catch (KafkaException e) when (!_stop.IsCancellationRequested)
            {
                _logger.LogWarning("scheduler: reading {Topic} failed ({Reason}); retrying", _topics.Runs.Name, e.Error.Reason);
                _stop.Token.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(500));
            }
        }
        _owner = false;
        try { consumer.Close(); }
        catch (KafkaException) { }
    }

    private void Apply(ConsumeResult<string, byte[]> record)
    {
        Interlocked.Increment(ref _read);
        var decoded = _topics.Runs.TryDecode(record.Message.Value);
        if (!decoded.Ok)
        {
            _logger.LogWarning("scheduler: a record of {Topic} at offset {Offset} does not decode ({Error}); passed over", _topics.Runs.Name, record.Offset.Value, decoded.Error);
            return;
        }
        var run = decoded.Value!;
        lock (_lock)
        {
            // This scheduler's own writes are already applied, and a later one may have followed.
            if (_ownWrites.Remove(run)) return;
            _runs[run.RunId] = run;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
