using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Streams.Core;
using Streams.Kafka;

namespace Streams.Pipeline.Tests;

/// <summary>Helpers shared by the pipeline tests: a temp state dir, a virtual clock, producing JSON, reading topics.</summary>
public sealed class PipelineFixture : IDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    public string StateDir { get; } = Path.Combine(Path.GetTempPath(), "streams-tests", Guid.NewGuid().ToString("N"));
    public FakeTimeProvider Time { get; } = new(Start);
    public ILoggerFactory Loggers { get; } = NullLoggerFactory.Instance;

    /// <summary>A mock cluster for one test, with the topics created and the options pointed at it.</summary>
    public static EmbeddedKafka Kafka(StreamsOptions options)
    {
        var kafka = new EmbeddedKafka();
        options.Kafka.Bootstrap = kafka.Bootstrap;
        EmbeddedKafka.EnsureTopics(kafka.Bootstrap, options.Topics);
        return kafka;
    }

    public CampaignClient Campaigns(StreamsOptions options) =>
        new(options.Kafka.Bootstrap!, options.Topics, Time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    /// <summary>Starts a pipeline with its own Streamiz application id and waits until it sees these campaigns and users.</summary>
    public async Task<PipelineHost> StartAsync(StreamsOptions options, string name, string[] campaigns, string[] users)
    {
        var host = await PipelineHost.StartAsync(options, Loggers, Time,
            new PipelineHostOptions { ApplicationId = $"{name}-{Guid.NewGuid().ToString("N")[..8]}" });
        foreach (var id in campaigns) await host.WaitForCampaignAsync(id, 1, TimeSpan.FromSeconds(60));
        foreach (var user in users) await host.WaitForProfileAsync(user, TimeSpan.FromSeconds(60));
        return host;
    }

    public static async Task ProduceJsonAsync(string bootstrap, string topic, params (string Key, string Json)[] records)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap }).Build();
        foreach (var (key, json) in records)
            await producer.ProduceAsync(topic, new Message<string, byte[]> { Key = key, Value = Encoding.UTF8.GetBytes(json) });
    }

    /// <summary>Every record of a topic from the beginning up to its current end.</summary>
    public static List<ConsumeResult<string, byte[]>> ReadAll(string bootstrap, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions
            .Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = "test-reader-" + Guid.NewGuid().ToString("N"), EnableAutoCommit = false,
        }).Build();
        var ends = partitions.ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value);
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        var records = new List<ConsumeResult<string, byte[]>>();
        var remaining = ends.Where(e => e.Value > 0).Select(e => e.Key).ToHashSet();
        var waited = Stopwatch.StartNew();
        while (remaining.Count > 0 && waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (r is null) continue;
            records.Add(r);
            if (r.Offset.Value + 1 >= ends[r.TopicPartition]) remaining.Remove(r.TopicPartition);
        }
        return records;
    }

    /// <summary>What became of each request: every result but the "sending" note each hand-over writes first.</summary>
    public static List<SmsResult> Results(string bootstrap, Topics topics) =>
        ReadAll(bootstrap, topics.Results).Select(r => Codecs.SmsResult.Decode(r.Message.Value)).Where(r => r.Status != ResultStatus.Sending).ToList();

    /// <summary>Waits for a condition the pipeline makes true asynchronously; fails with the last observed state.</summary>
    public static Task<T> Eventually<T>(Func<Task<T>> observe, Func<T, bool> done, TimeSpan? timeout = null) =>
        Streams.Tests.Eventually.Async(observe, done, timeout);

    public void Dispose()
    {
        try { Directory.Delete(StateDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
