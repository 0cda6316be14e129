using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Kafka;
using Streams.Pipeline;
using Streams.Tests;

namespace Streams.Benchmarks;

/// <summary>
/// What a restart costs the live topology when its local state is gone (a new machine, a lost disk): the profiles of
/// [users] users are built into the per-user store once, the process stops, its state directory is deleted, and a
/// new process restores the store from the changelog. Reported: the restore rate (changelog records/s, from start to
/// the last partition answering) beside a raw consume of the same changelog in the same run, the store's bytes per
/// user on disk, and the time from start until the first request (and until one from every partition).
/// Run: dotnet run -c Release --project bench/Streams.Benchmarks -- restart [users]
/// </summary>
public static class RestartBench
{
    private const string ApplicationId = "bench-restart";
    private const int Probes = 64;

    public static async Task<int> RunAsync(string[] args)
    {
        var users = int.Parse(args.ElementAtOrDefault(0) ?? "1000000", CultureInfo.InvariantCulture);
        using var kafka = new EmbeddedKafka();
        var topics = Topics.Default;
        EmbeddedKafka.EnsureTopics(kafka.Bootstrap, topics.All);
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning).AddFilter("Streamiz", LogLevel.Critical));
        using var stateDir = new TempDir();
        var options = new StreamsOptions { StateDir = stateDir.Path, Kafka = new StreamsOptions.KafkaOptions { Bootstrap = kafka.Bootstrap } };
        var hostOptions = new PipelineHostOptions { ApplicationId = ApplicationId, Roles = PipelineRoles.Topology };
        var changelog = $"{ApplicationId}-{Topologies.StoreNames.UserState}-changelog";

        var clock = Stopwatch.StartNew();
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = kafka.Bootstrap, LingerMs = 20 }).Build())
        {
            for (var i = 0; i < users; i++)
            {
                var json = $$$"""{"user_id":"u-{{{i}}}","ts":"2026-11-01T08:00:00Z","phone":"+9198{{{i % 100_000_000:D8}}}","props":{"first_name":"User{{{i}}}","city":"Pune","plan":"gold"}}""";
                while (true)
                {
                    try
                    {
                        producer.Produce(topics.Profiles, new Message<string, byte[]> { Key = $"u-{i}", Value = Encoding.UTF8.GetBytes(json) });
                        break;
                    }
                    catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(50));
                    }
                }
            }
            producer.Flush(TimeSpan.FromMinutes(5));
        }
        Console.WriteLine($"{users:N0} profiles produced in {clock.Elapsed.TotalSeconds:N1} s");

        var client = new CampaignClient(kafka.Bootstrap, topics, TimeProvider.System, loggers.CreateLogger("bench"));
        await client.ApplyAsync("""
            {"id": "ping", "name": "Ping", "type": "live", "who": {"trigger": {"event": "Ping"}}, "what": {"provider": "sandbox", "text": "Pong"}}
            """);

        // First process: builds the store from the profiles.
        clock.Restart();
        await using (var host = await PipelineHost.StartAsync(options, loggers, TimeProvider.System, hostOptions))
        {
            var said = TimeSpan.Zero;
            long seen;
            while ((seen = Records(kafka.Bootstrap, changelog)) < users)
            {
                if (clock.Elapsed - said > TimeSpan.FromSeconds(10))
                {
                    Console.WriteLine($"  {clock.Elapsed.TotalSeconds:N0} s: {seen:N0} profiles in the store");
                    said = clock.Elapsed;
                }
                await Task.Delay(500);
            }
        }
        var built = clock.Elapsed;
        var records = Records(kafka.Bootstrap, changelog);
        var storeDir = Path.Combine(stateDir.Path, "streamiz", ApplicationId);
        var bytes = Directory.EnumerateFiles(storeDir, "*", SearchOption.AllDirectories)
            .Where(f => f.Contains(Topologies.StoreNames.UserState, StringComparison.Ordinal)).Sum(f => new FileInfo(f).Length);
        Console.WriteLine($"store built in {built.TotalSeconds:N1} s ({users / built.TotalSeconds:N0} profiles/s); changelog {records:N0} records; " +
            $"RocksDB {bytes / 1024.0 / 1024.0:N1} MiB on disk, {(double)bytes / users:N0} bytes per user");

        var raw = RawConsume(kafka.Bootstrap, changelog, records);
        Console.WriteLine($"raw consume of the changelog: {records:N0} records in {raw.TotalSeconds:N1} s ({records / raw.TotalSeconds:N0} records/s)");

        // The machine is gone: a new process restores the store from the changelog before it processes anything.
        Directory.Delete(Path.Combine(stateDir.Path, "streamiz"), recursive: true);
        using var measure = new LiveBench.Measure(kafka.Bootstrap, topics.Requests, v =>
        {
            var r = Codecs.SmsRequest.DecodeOwn(v);
            return (r.UserId, r.Context.EventTs!.Value);
        });
        measure.Expect("u", Probes);
        clock.Restart();
        await using (var host = await PipelineHost.StartAsync(options, loggers, TimeProvider.System, hostOptions))
        {
            using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = kafka.Bootstrap }).Build())
            {
                for (var i = 0; i < Probes; i++)
                {
                    var user = $"u-{i * (users / Probes)}";
                    producer.Produce(topics.Events, new Message<string, byte[]>
                    {
                        Key = user, Value = Encoding.UTF8.GetBytes($$"""{"user_id":"{{user}}","name":"Ping","ts":"{{DateTimeOffset.UtcNow:O}}"}"""),
                    });
                }
                producer.Flush(TimeSpan.FromSeconds(30));
            }
            var first = await FirstAsync(measure, clock);
            await measure.Done.WaitAsync(TimeSpan.FromMinutes(30));
            var all = clock.Elapsed;
            Console.WriteLine($"restart with no local state: first request after {first.TotalSeconds:N1} s, one from every partition after {all.TotalSeconds:N1} s");
            Console.WriteLine($"restore rate: {records / all.TotalSeconds:N0} records/s vs raw consume {records / raw.TotalSeconds:N0} records/s: {raw.TotalSeconds / all.TotalSeconds:P0}");
        }
        return 0;
    }

    private static async Task<TimeSpan> FirstAsync(LiveBench.Measure measure, Stopwatch clock)
    {
        while (measure.Latencies.Count == 0 && !measure.Done.IsCompleted) await Task.Delay(10);
        return clock.Elapsed;
    }

    /// <summary>Records in a topic: the sum of its partitions' high watermarks (the changelog is never compacted here).</summary>
    private static long Records(string bootstrap, string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "bench-count" }).Build();
        try
        {
            using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
            var meta = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single();
            if (meta.Error.IsError) return 0;
            return meta.Partitions.Sum(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p.PartitionId), TimeSpan.FromSeconds(10)).High.Value);
        }
        catch (KafkaException)
        {
            return 0;
        }
    }

    private static TimeSpan RawConsume(string bootstrap, string topic, long records)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = $"bench-raw-{Guid.NewGuid():N}", AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        }).Build();
        var clock = Stopwatch.StartNew();
        consumer.Subscribe(topic);
        long seen = 0;
        while (seen < records)
        {
            if (consumer.Consume(TimeSpan.FromSeconds(1)) is not null) seen++;
        }
        consumer.Close();
        return clock.Elapsed;
    }
}
