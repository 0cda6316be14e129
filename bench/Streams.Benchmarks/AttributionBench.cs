using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.SerDes;
using Streams.Core;
using Streams.Kafka;
using Streams.Pipeline;
using Streams.Tests;
using Streams.Topologies.Attribution;

namespace Streams.Benchmarks;

/// <summary>
/// Conversion attribution on the embedded mock cluster: 100 campaigns with goals; a backlog of N exposures (sent
/// results) and N goal events for the same users, each event converting its user's exposure; timed from the first
/// produce to the N-th conversion. Beside it, in the same run: the live bench's raw consume→produce forwarder over a
/// backlog of N events.
/// Run: dotnet run -c Release --project bench/Streams.Benchmarks -- attribution [events] [campaigns]
/// </summary>
public static class AttributionBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var events = int.Parse(args.ElementAtOrDefault(0) ?? "20000", CultureInfo.InvariantCulture);
        var campaigns = int.Parse(args.ElementAtOrDefault(1) ?? "100", CultureInfo.InvariantCulture);
        using var kafka = new EmbeddedKafka();
        var topics = Topics.Default;
        EmbeddedKafka.EnsureTopics(kafka.Bootstrap, [.. topics.All, "bench.in", "bench.out"]);
        Console.WriteLine($"mock cluster {kafka.Bootstrap}; {events} exposures and {events} goal events, {campaigns} campaigns with goals");

        double rawRate;
        using (var forward = new CancellationTokenSource())
        {
            var forwarder = Task.Factory.StartNew(() => LiveBench.Forward(kafka.Bootstrap, forward.Token), TaskCreationOptions.LongRunning);
            using var raw = new LiveBench.Measure(kafka.Bootstrap, "bench.out", v => (Encoding.UTF8.GetString(v).Split('"')[3], LiveBench.Stamp(v)));
            await LiveBench.Phase(kafka.Bootstrap, "bench.in", raw, "warm", 500, 0);
            (rawRate, _) = await LiveBench.Phase(kafka.Bootstrap, "bench.in", raw, "tp", events, 0);
            forward.Cancel();
            await forwarder;
        }
        Console.WriteLine($"raw consume→produce: {rawRate:N0} events/s (backlog)");

        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning).AddFilter("Streamiz", LogLevel.Critical));
        var client = new CampaignClient(kafka.Bootstrap, topics, TimeProvider.System, loggers.CreateLogger("bench"));
        for (var c = 0; c < campaigns; c++)
            await client.ApplyAsync($$$"""
                {"id": "bench-{{{c}}}", "name": "Bench {{{c}}}", "type": "live",
                 "who": {"trigger": {"event": "Event {{{c}}}"}},
                 "what": {"provider": "sandbox", "text": "Hi"},
                 "goal": {"conversion": {"event": "Goal {{{c}}}", "within": "1h", "value": "value"}, "control_group": 10}}
                """);

        Console.WriteLine($"{campaigns} campaigns applied");
        using var stateDir = new TempDir();
        var builder = new StreamBuilder();
        AttributionTopology.Build(builder, new AttributionOptions { Topics = topics });
        using var stream = new KafkaStream(builder.Build(), new StreamConfig<StringSerDes, ByteArraySerDes>
        {
            ApplicationId = "bench-attribution", BootstrapServers = kafka.Bootstrap, StateDir = stateDir.Path, AutoOffsetReset = AutoOffsetReset.Earliest, AllowAutoCreateTopics = true,
            // As the attribution role runs it.
            CommitIntervalMs = 1000, FetchWaitMaxMs = 500, PollMs = 100, Logger = loggers,
        });
        await stream.StartAsync();
        using var measure = new LiveBench.Measure(kafka.Bootstrap, topics.Conversions, v =>
        {
            var c = Codecs.Conversion.DecodeOwn(v);
            return (c.UserId, c.Ts);
        });
        foreach (var (phase, n) in new[] { ("warm", 500), ("tp", events) })
        {
            measure.Expect(phase, n);
            using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = kafka.Bootstrap, LingerMs = 5 }).Build();
            var clock = Stopwatch.StartNew();
            var now = DateTimeOffset.UtcNow;
            for (var i = 0; i < n; i++)
            {
                var user = $"{phase}-{i}";
                var exposure = new SmsResult($"{phase}-r{i}", "m", $"bench-{i % campaigns}", user, ResultStatus.Sent, null, "sandbox", 1, "GSM-7", now.AddMinutes(-1));
                producer.Produce(topics.Results, topics.Results.Message(user, exposure));
            }
            for (var i = 0; i < n; i++)
            {
                var user = $"{phase}-{i}";
                var ev = new UserEvent(user, $"Goal {i % campaigns}", now, new Dictionary<string, object?> { ["value"] = 10.0 + i % 90 });
                producer.Produce(topics.Events, topics.Events.Message(user, ev));
            }
            producer.Flush(TimeSpan.FromSeconds(60));
            Console.WriteLine($"{phase}: {2 * n} records produced in {clock.Elapsed.TotalSeconds:N2} s");
            await measure.Done.WaitAsync(TimeSpan.FromMinutes(10));
            if (phase == "tp")
            {
                var rate = n / clock.Elapsed.TotalSeconds;
                Console.WriteLine($"attribution, {campaigns} campaigns with goals: {rate:N0} goal events/s ({2 * n / clock.Elapsed.TotalSeconds:N0} input records/s with the exposures), {n} conversions in {clock.Elapsed.TotalSeconds:N2} s");
                Console.WriteLine($"ratio attribution/raw: {rate / rawRate:P1} (goal events), {2 * rate / rawRate:P1} (input records)");
            }
        }
        return 0;
    }
}
