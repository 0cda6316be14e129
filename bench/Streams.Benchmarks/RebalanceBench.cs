using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Kafka;
using Streams.Pipeline;
using Streams.Tests;

namespace Streams.Benchmarks;

/// <summary>
/// What a member joining the dispatcher group costs: a backlog of [requests] requests is dispatched (sandbox provider,
/// counters on Redis) by one dispatcher; when a third of them are sent a second dispatcher joins, and partitions move
/// to it. Every request is sent once (the counters see to that); what a rebalance costs is the requests handled again
/// by their new owner, each re-emitting its result. Reported: the re-emitted `sent` results, and the time the join took.
/// Run: dotnet run -c Release --project bench/Streams.Benchmarks -- rebalance [redis] [requests] [consumer|classic]
/// </summary>
public static class RebalanceBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var redis = args.ElementAtOrDefault(0) ?? "127.0.0.1:6379";
        var count = int.Parse(args.ElementAtOrDefault(1) ?? "30000", CultureInfo.InvariantCulture);
        var protocol = args.ElementAtOrDefault(2) ?? "consumer";
        using var kafka = new EmbeddedKafka();
        var topics = Topics.Default;
        EmbeddedKafka.EnsureTopics(kafka.Bootstrap, topics.All);
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning).AddFilter("Streamiz", LogLevel.Critical));
        using var stateDir = new TempDir();
        var options = new StreamsOptions
        {
            StateDir = stateDir.Path, Redis = redis, RedisPrefix = $"bench-{Guid.NewGuid():N}:",
            Kafka = new StreamsOptions.KafkaOptions { Bootstrap = kafka.Bootstrap, GroupProtocol = protocol },
        };
        var client = new CampaignClient(kafka.Bootstrap, topics, TimeProvider.System, loggers.CreateLogger("bench"));
        var campaign = await client.ApplyAsync("""
            {"id": "bench", "name": "Bench", "type": "live", "who": {"trigger": {"event": "Ping"}}, "what": {"provider": "sandbox", "text": "Pong"}}
            """);

        using (var producer = KafkaClients.Producer(kafka.Bootstrap))
        {
            var now = DateTimeOffset.UtcNow;
            for (var i = 0; i < count; i++)
            {
                var request = new SmsRequest($"r-{i}", "bench", 1, $"u-{i}", now,
                    new RequestContext("Ping", now, Props.Empty, $"+9198{i % 100_000_000:D8}", "Asia/Kolkata", true, Props.Empty));
                producer.Produce(topics.Requests.Name, new Message<string, byte[]> { Key = request.UserId, Value = Codecs.SmsRequest.Encode(request) });
            }
            producer.Flush(TimeSpan.FromMinutes(1));
        }
        Console.WriteLine($"{count:N0} requests in sms.requests; group protocol {protocol}");

        var sent = new Dictionary<string, int>();
        using var stop = new CancellationTokenSource();
        var reader = Task.Factory.StartNew(() => Read(kafka.Bootstrap, topics, sent, stop.Token), TaskCreationOptions.LongRunning);
        int Distinct()
        {
            lock (sent) return sent.Count;
        }

        var clock = Stopwatch.StartNew();
        var hostOptions = new PipelineHostOptions { Roles = PipelineRoles.Dispatcher };
        await using var first = await PipelineHost.StartAsync(options, loggers, TimeProvider.System, hostOptions);
        while (Distinct() < count / 3) await Task.Delay(20);
        var joinedAt = clock.Elapsed;
        await using var second = await PipelineHost.StartAsync(options, loggers, TimeProvider.System, hostOptions);
        while (Distinct() < count) await Task.Delay(20);
        var done = clock.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(3)); // anything re-emitted late lands too
        await stop.CancelAsync();
        await reader;
        int total, twice;
        lock (sent) (total, twice) = (sent.Values.Sum(), sent.Values.Count(v => v > 1));
        Console.WriteLine($"all {count:N0} sent in {done.TotalSeconds:N1} s ({count / done.TotalSeconds:N0}/s); the second dispatcher joined at {joinedAt.TotalSeconds:N1} s");
        Console.WriteLine($"sent results: {total:N0} for {count:N0} requests: {total - count:N0} re-emitted ({twice:N0} requests reported twice or more), {(double)(total - count) / count:P2}");
        return 0;
    }

    private static void Read(string bootstrap, Topics topics, Dictionary<string, int> sent, CancellationToken stop)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = $"bench-results-{Guid.NewGuid():N}", AutoOffsetReset = AutoOffsetReset.Earliest, FetchWaitMaxMs = 5,
        }).Build();
        consumer.Subscribe(topics.Results.Name);
        while (!stop.IsCancellationRequested)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is not { } m) continue;
            var result = topics.Results.Decode(m.Message.Value);
            if (result.Status != ResultStatus.Sent) continue;
            lock (sent) sent[result.RequestId] = sent.GetValueOrDefault(result.RequestId) + 1;
        }
        consumer.Close();
    }
}
