using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streams.Kafka;

namespace Streams.Pipeline;

/// <summary>
/// Keeps the embedded mock cluster's data in the state dir, since the mock itself lives in memory: every record of
/// every topic (Streamiz's changelogs included) is appended to a file per partition as it arrives, and the
/// committed offsets of the pipeline's consumer groups are saved every second. At start the records are produced
/// back to the same partitions in the same order (so they get the same offsets, timestamps and headers) and the
/// offsets committed again: a restarted embedded stack resumes where it stopped. A clean stop writes everything;
/// a SIGKILL can lose what arrived in the last moments before it.
/// </summary>
public sealed class KafkaJournal : IAsyncDisposable
{
    private const string OffsetsFile = "offsets.json";
    private readonly string _dir;
    private readonly string _bootstrap;
    private readonly IReadOnlyList<string> _groups;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<TopicPartition, FileStream> _files = [];
    private readonly Dictionary<TopicPartition, long> _next = [];
    private readonly object _offsetsLock = new();
    private Task _loop = Task.CompletedTask;

    private KafkaJournal(string bootstrap, string dir, IReadOnlyList<string> groups, ILogger logger)
    {
        _bootstrap = bootstrap;
        _dir = dir;
        _groups = groups;
        _logger = logger;
    }

    /// <summary>How many records were produced back at start.</summary>
    public long Restored { get; private set; }

    /// <summary>Restores what the directory holds into the (new, empty) cluster, then starts recording.</summary>
    public static async Task<KafkaJournal> OpenAsync(string bootstrap, string dir, IReadOnlyList<string> groups, ILogger logger, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.Combine(dir, "topics"));
        var journal = new KafkaJournal(bootstrap, dir, groups, logger);
        await journal.RestoreAsync(ct);
        journal.RestoreOffsets();
        journal._loop = Task.Factory.StartNew(journal.Record, TaskCreationOptions.LongRunning);
        return journal;
    }

    private string PartitionFile(TopicPartition tp) => Path.Combine(_dir, "topics", tp.Topic, $"{tp.Partition.Value}.log");

    private async Task RestoreAsync(CancellationToken ct)
    {
        var topicsDir = Path.Combine(_dir, "topics");
        var topics = Directory.EnumerateDirectories(topicsDir).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        if (topics.Count == 0) return;
        EmbeddedKafka.EnsureTopics(_bootstrap, topics);
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig
        {
            BootstrapServers = _bootstrap,
            EnableIdempotence = true, // keeps each partition's order, so every record gets its old offset back
            LingerMs = 5,
            MessageTimeoutMs = 30_000,
        }).Build();
        foreach (var topic in topics)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(topicsDir, topic), "*.log"))
            {
                var tp = new TopicPartition(topic, int.Parse(Path.GetFileNameWithoutExtension(file), System.Globalization.CultureInfo.InvariantCulture));
                var offset = 0L;
                var pending = new List<Task<DeliveryResult<byte[]?, byte[]?>>>();
                foreach (var message in ReadFrames(file))
                {
                    pending.Add(producer.ProduceAsync(tp, message, ct));
                    offset++;
                }
                var results = await Task.WhenAll(pending);
                for (var i = 0; i < results.Length; i++)
                {
                    if (results[i].Offset.Value != i)
                        throw new InvalidOperationException($"restoring {tp}: record {i} came back at offset {results[i].Offset.Value}; the state dir's Kafka data cannot be replayed");
                }
                _next[tp] = offset;
                Restored += offset;
            }
        }
    }

    /// <summary>Frames: [int32 length][int64 timestamp][key][value][headers]; a frame cut short by a crash ends the file (and is cut off).</summary>
    private static IEnumerable<Message<byte[]?, byte[]?>> ReadFrames(string file)
    {
        var bytes = System.IO.File.ReadAllBytes(file);
        var position = 0;
        while (position + 4 <= bytes.Length)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(position));
            if (length < 0 || position + 4 + length > bytes.Length) break;
            yield return Decode(bytes.AsMemory(position + 4, length));
            position += 4 + length;
        }
        if (position < bytes.Length)
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Write);
            stream.SetLength(position);
        }
    }

    private static Message<byte[]?, byte[]?> Decode(ReadOnlyMemory<byte> frame)
    {
        var reader = new FrameReader(frame);
        var timestamp = reader.Long();
        var key = reader.Bytes();
        var value = reader.Bytes();
        var count = reader.Int();
        var headers = new Headers();
        for (var i = 0; i < count; i++)
        {
            var name = Encoding.UTF8.GetString(reader.Bytes() ?? []);
            headers.Add(name, reader.Bytes());
        }
        return new Message<byte[]?, byte[]?> { Timestamp = new Timestamp(timestamp, TimestampType.CreateTime), Key = key, Value = value, Headers = headers };
    }

    private sealed class FrameReader(ReadOnlyMemory<byte> frame)
    {
        private int _at;

        public long Long()
        {
            var v = BinaryPrimitives.ReadInt64LittleEndian(frame.Span[_at..]);
            _at += 8;
            return v;
        }

        public int Int()
        {
            var v = BinaryPrimitives.ReadInt32LittleEndian(frame.Span[_at..]);
            _at += 4;
            return v;
        }

        public byte[]? Bytes()
        {
            var n = Int();
            if (n < 0) return null;
            var v = frame.Span.Slice(_at, n).ToArray();
            _at += n;
            return v;
        }
    }

    private static byte[] Encode(ConsumeResult<byte[]?, byte[]?> record)
    {
        using var buffer = new MemoryStream();
        using var w = new BinaryWriter(buffer);
        w.Write(0); // length, filled in below
        w.Write(record.Message.Timestamp.UnixTimestampMs);
        void Bytes(byte[]? b)
        {
            w.Write(b?.Length ?? -1);
            if (b is not null) w.Write(b);
        }
        Bytes(record.Message.Key);
        Bytes(record.Message.Value);
        var headers = record.Message.Headers ?? [];
        w.Write(headers.Count);
        foreach (var h in headers)
        {
            Bytes(Encoding.UTF8.GetBytes(h.Key));
            Bytes(h.GetValueBytes());
        }
        w.Flush();
        var frame = buffer.ToArray();
        BinaryPrimitives.WriteInt32LittleEndian(frame, frame.Length - 4);
        return frame;
    }

    private void RestoreOffsets()
    {
        var path = Path.Combine(_dir, OffsetsFile);
        if (!System.IO.File.Exists(path)) return;
        var saved = JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, long>>>(System.IO.File.ReadAllText(path)) ?? [];
        foreach (var (group, offsets) in saved)
        {
            var list = offsets.Select(o => (Key: o.Key, o.Value)).Select(o =>
            {
                var bar = o.Key.LastIndexOf('|');
                return new TopicPartitionOffset(o.Key[..bar], int.Parse(o.Key[(bar + 1)..], System.Globalization.CultureInfo.InvariantCulture), o.Value);
            }).ToList();
            if (list.Count == 0) continue;
            using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = _bootstrap, GroupId = group, EnableAutoCommit = false }).Build();
            consumer.Commit(list);
        }
    }

    /// <summary>Tails every partition of every topic into its file; picks up topics created later (Streamiz's changelogs).</summary>
    private void Record()
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _bootstrap }).Build();
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = _bootstrap,
            GroupId = "streams-embedded-journal", // never joins or commits: partitions are assigned by hand
            EnableAutoCommit = false,
            EnablePartitionEof = true,
            FetchWaitMaxMs = 50,
        }).Build();
        var offsetReaders = _groups.ToDictionary(g => g, g => new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = _bootstrap, GroupId = g, EnableAutoCommit = false,
        }).Build());
        try
        {
            var lastScan = DateTime.MinValue;
            var lastSave = DateTime.MinValue;
            var written = new HashSet<FileStream>();
            while (true)
            {
                var stopping = _stop.IsCancellationRequested;
                if (stopping || DateTime.UtcNow - lastScan > TimeSpan.FromSeconds(1))
                {
                    AssignNew(admin, consumer);
                    lastScan = DateTime.UtcNow;
                }
                // At a stop, read every partition to its end before the last offsets are saved.
                var caughtUp = stopping && CaughtUp(consumer);
                var record = caughtUp ? null : consumer.Consume(TimeSpan.FromMilliseconds(50));
                if (record is { IsPartitionEOF: false })
                {
                    var file = Writer(record.TopicPartition);
                    file.Write(Encode(record));
                    _next[record.TopicPartition] = record.Offset.Value + 1;
                    written.Add(file);
                    continue;
                }
                foreach (var f in written) f.Flush();
                written.Clear();
                if (caughtUp || DateTime.UtcNow - lastSave > TimeSpan.FromSeconds(1))
                {
                    SaveOffsets(offsetReaders);
                    lastSave = DateTime.UtcNow;
                }
                if (caughtUp) return;
            }
        }
        catch (Exception e) when (e is KafkaException or IOException)
        {
            _logger.LogError("embedded Kafka journal stopped: {Error}; data after this point will not survive a restart", e.Message);
        }
        finally
        {
            foreach (var reader in offsetReaders.Values) reader.Dispose();
            consumer.Close();
        }
    }

    private bool CaughtUp(IConsumer<byte[]?, byte[]?> consumer)
    {
        foreach (var tp in consumer.Assignment)
        {
            var high = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(5)).High.Value;
            if (_next.GetValueOrDefault(tp) < high) return false;
        }
        return true;
    }

    private void AssignNew(IAdminClient admin, IConsumer<byte[]?, byte[]?> consumer)
    {
        var assigned = consumer.Assignment.ToHashSet();
        var fresh = admin.GetMetadata(TimeSpan.FromSeconds(5)).Topics
            .Where(t => !t.Topic.StartsWith("__", StringComparison.Ordinal) && t.Error.Code == ErrorCode.NoError)
            .SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Topic, p.PartitionId)))
            .Where(tp => !assigned.Contains(tp))
            .Select(tp => new TopicPartitionOffset(tp, _next.GetValueOrDefault(tp)))
            .ToList();
        if (fresh.Count > 0) consumer.IncrementalAssign(fresh);
    }

    private FileStream Writer(TopicPartition tp)
    {
        if (_files.TryGetValue(tp, out var file)) return file;
        var path = PartitionFile(tp);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return _files[tp] = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16);
    }

    private void SaveOffsets(Dictionary<string, IConsumer<byte[], byte[]>> readers)
    {
        var partitions = _next.Keys.ToList();
        if (partitions.Count == 0) return;
        var saved = new Dictionary<string, Dictionary<string, long>>();
        foreach (var (group, reader) in readers)
        {
            var committed = reader.Committed(partitions, TimeSpan.FromSeconds(5));
            var offsets = committed.Where(c => c.Offset.Value >= 0)
                .ToDictionary(c => $"{c.Topic}|{c.Partition.Value}", c => c.Offset.Value);
            if (offsets.Count > 0) saved[group] = offsets;
        }
        var path = Path.Combine(_dir, OffsetsFile);
        lock (_offsetsLock)
        {
            System.IO.File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(saved));
            System.IO.File.Move(path + ".tmp", path, overwrite: true);
        }
    }

    /// <summary>Reads every partition to its end, saves the offsets and closes the files. Call after the roles stopped.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await _loop.WaitAsync(TimeSpan.FromSeconds(30)); }
        catch (TimeoutException) { _logger.LogWarning("embedded Kafka journal: not everything was written within 30 s"); }
        foreach (var file in _files.Values) await file.DisposeAsync();
        _stop.Dispose();
    }
}
