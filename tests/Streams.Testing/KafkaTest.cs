using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Core;
using Streams.Kafka;

namespace Streams.Tests;

/// <summary>Producing test input and reading what the pipeline wrote, on a real (mock-cluster) Kafka.</summary>
public static class KafkaTest
{
    public static async Task ProduceJsonAsync(string bootstrap, string topic, params (string Key, string Json)[] records)
    {
        using var producer = KafkaClients.Producer(bootstrap);
        foreach (var (key, json) in records)
            await producer.ProduceAsync(topic, new Message<string, byte[]> { Key = key, Value = Encoding.UTF8.GetBytes(json) });
    }

    /// <summary>Every record of a topic from the beginning up to its end at the time of the call (20 s at most).</summary>
    public static List<ConsumeResult<string, byte[]>> ReadAll(string bootstrap, string topic)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        return [.. TopicReader.Records(bootstrap, topic, NullLogger.Instance, limit.Token)];
    }

    /// <summary>What became of each request: every result but the "sending" note each hand-over writes first.</summary>
    public static List<SmsResult> Results(string bootstrap, Kafka.Topics topics) =>
        ReadAll(bootstrap, topics.Results).Select(r => topics.Results.Decode(r.Message.Value)).Where(r => r.Status != ResultStatus.Sending).ToList();

    /// <summary>
    /// Follows a topic from its beginning as it grows, until <paramref name="done"/> holds for what was read, then
    /// keeps reading for <paramref name="settle"/> (a duplicate would come after), or until the timeout. Each value
    /// comes with the moment it was read.
    /// </summary>
    public static async Task<List<(T Value, DateTimeOffset ReadAt)>> FollowAsync<T>(string bootstrap, Topic<T> topic,
        Func<IReadOnlyList<T>, bool> done, TimeSpan timeout, TimeSpan? settle = null) where T : class
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = $"test-{Guid.NewGuid():N}", AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe(topic.Name);
        var read = new List<(T, DateTimeOffset)>();
        var values = new List<T>();
        var waited = Stopwatch.StartNew();
        Stopwatch? settling = null;
        while (waited.Elapsed < timeout && (settling is null || settling.Elapsed < (settle ?? TimeSpan.Zero)))
        {
            var m = await Task.Run(() => consumer.Consume(TimeSpan.FromMilliseconds(200)));
            if (m is null) continue;
            var value = topic.Decode(m.Message.Value);
            read.Add((value, DateTimeOffset.UtcNow));
            values.Add(value);
            if (settling is null && done(values)) settling = Stopwatch.StartNew();
        }
        consumer.Close();
        return read;
    }
}
