using Confluent.Kafka;
using Streams.Core;

namespace Streams.Pipeline;

/// <summary>
/// librdkafka's in-process mock cluster: real Kafka protocol on 127.0.0.1, alive as long as this
/// object. Topics are created by metadata requests (4 partitions each), as the mock has no CreateTopics.
/// </summary>
public sealed class EmbeddedKafka : IDisposable
{
    private readonly IAdminClient _handle;

    public EmbeddedKafka(int brokers = 1)
    {
        var config = new AdminClientConfig { BootstrapServers = "" };
        config.Set("test.mock.num.brokers", brokers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // The mock announces itself at notice level on every start: keep warnings and errors only.
        _handle = new AdminClientBuilder(config)
            .SetLogHandler((_, m) => { if (m.Level <= SyslogLevel.Warning) Console.Error.WriteLine($"kafka mock: {m.Message}"); })
            .Build();
        var meta = _handle.GetMetadata(TimeSpan.FromSeconds(10));
        Bootstrap = string.Join(",", meta.Brokers.Select(b => $"{b.Host}:{b.Port}"));
    }

    public string Bootstrap { get; }

    public static void EnsureTopics(string bootstrap, Topics topics) => EnsureTopics(bootstrap, topics.All);

    public static void EnsureTopics(string bootstrap, IEnumerable<string> topics)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap, AllowAutoCreateTopics = true }).Build();
        foreach (var topic in topics)
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (admin.GetMetadata(topic, TimeSpan.FromSeconds(5)).Topics.Single().Partitions.Count == 0)
            {
                if (waited.Elapsed > TimeSpan.FromSeconds(10)) throw new KafkaException(ErrorCode.UnknownTopicOrPart);
                Thread.Sleep(50);
            }
        }
    }

    public void Dispose() => _handle.Dispose();
}
