using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Pipeline;
using Streams.Kafka;
using Streams.Tests;

namespace Streams.Benchmarks;

/// <summary>
/// The live path on the embedded mock cluster: events through the live topology (100 active live campaigns,
/// each event checked against all of them and matching one) to sms.requests. Throughput: a backlog of events
/// produced at once, timed until the last request arrives. Latency: events at a fixed rate, event time (stamped
/// at produce) to the request's arrival. Beside it, in the same run and on the same cluster: a raw
/// consumer→producer forwarder (Confluent.Kafka, no processing) measured the same two ways.
/// Run: dotnet run -c Release --project bench/Streams.Benchmarks -- live [events] [campaigns] [rate] [kafka.poll_ms]
/// </summary>
public static class LiveBench
{
    private const int Partitions = 4;

    /// <summary>The pipeline's consumers wait this long for data (PipelineHost); the raw forwarder gets the same.</summary>
    private static readonly int FetchWaitMs = Pipeline.Roles.TopologyRole.FetchWaitMaxMs;

    public static async Task<int> RunAsync(string[] args)
    {
        var events = int.Parse(args.ElementAtOrDefault(0) ?? "20000", CultureInfo.InvariantCulture);
        var campaigns = int.Parse(args.ElementAtOrDefault(1) ?? "100", CultureInfo.InvariantCulture);
        var rate = int.Parse(args.ElementAtOrDefault(2) ?? "500", CultureInfo.InvariantCulture);
        var pollMs = int.Parse(args.ElementAtOrDefault(3) ?? StreamsOptions.KafkaOptions.DefaultPollMs.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        var latencyEvents = rate * 10;
        using var kafka = new EmbeddedKafka();
        var topics = Topics.Default;
        EmbeddedKafka.EnsureTopics(kafka.Bootstrap, [.. topics.All, "bench.in", "bench.out"]);
        Console.WriteLine($"mock cluster {kafka.Bootstrap}, {Partitions} partitions per topic; {events} events, {campaigns} live campaigns, latency at {rate} events/s for 10 s");

        // Raw consume→produce on the same cluster.
        using (var forward = new CancellationTokenSource())
        {
            var forwarder = Task.Factory.StartNew(() => Forward(kafka.Bootstrap, forward.Token), TaskCreationOptions.LongRunning);
            var raw = new Measure(kafka.Bootstrap, "bench.out", v => (Encoding.UTF8.GetString(v).Split('"')[3], Stamp(v)));
            await Phase(kafka.Bootstrap, "bench.in", raw, "warm", 500, 0);
            var (rawRate, _) = await Phase(kafka.Bootstrap, "bench.in", raw, "tp", events, 0);
            var (_, rawLatency) = await Phase(kafka.Bootstrap, "bench.in", raw, "lat", latencyEvents, rate);
            forward.Cancel();
            await forwarder;
            raw.Dispose();
            Report("raw consume→produce", rawRate, rawLatency);

            using var stateDir = new TempDir();
            using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning).AddFilter("Streamiz", LogLevel.Critical));
            // Each event is a new user with no profile: a user with one is judged at once, and profile_wait 0s keeps these
            // on that same path instead of holding each for a profile that never comes.
            var options = new StreamsOptions { StateDir = stateDir.Path, ProfileWait = "0s", Kafka = new StreamsOptions.KafkaOptions { Bootstrap = kafka.Bootstrap, PollMs = pollMs } };
            await using var host = await PipelineHost.StartAsync(options, loggers, TimeProvider.System,
                new PipelineHostOptions { Roles = PipelineRoles.Topology });
            var client = new CampaignClient(kafka.Bootstrap, topics, TimeProvider.System, loggers.CreateLogger("bench"));
            for (var c = 0; c < campaigns; c++)
                await client.ApplyAsync($$$"""
                    {"id": "bench-{{{c}}}", "name": "Bench {{{c}}}", "type": "live",
                     "who": {"trigger": {"event": "Event {{{c}}}", "where": [{"prop": "value", "op": "gte", "value": 10}]}},
                     "what": {"provider": "sandbox", "text": "Hi {{ profile.first_name | default: 'there' }}"}}
                    """);
            for (var c = 0; c < campaigns; c++) await host.WaitForCampaignAsync($"bench-{c}", 1, TimeSpan.FromSeconds(60));
            var live = new Measure(kafka.Bootstrap, topics.Requests, v =>
            {
                var r = Codecs.SmsRequest.DecodeOwn(v);
                return (r.UserId, r.Context.EventTs!.Value);
            });
            await Phase(kafka.Bootstrap, topics.Events, live, "warm", 500, 0, campaigns);
            var (liveRate, _) = await Phase(kafka.Bootstrap, topics.Events, live, "tp", events, 0, campaigns);
            var (_, liveLatency) = await Phase(kafka.Bootstrap, topics.Events, live, "lat", latencyEvents, rate, campaigns);
            live.Dispose();
            Report($"live path, {campaigns} campaigns, kafka.poll_ms {pollMs}", liveRate, liveLatency);
            Console.WriteLine($"ratio live/raw: throughput {liveRate / rawRate:P1}");
        }
        return 0;
    }

    internal static DateTimeOffset Stamp(byte[] v) =>
        DateTimeOffset.Parse(Encoding.UTF8.GetString(v).Split('"')[11], CultureInfo.InvariantCulture);

    internal static void Report(string what, double perSecond, List<double> latencies)
    {
        latencies.Sort();
        double P(double q) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
        Console.WriteLine($"{what}: {perSecond:N0} events/s (backlog); latency at fixed rate p50 {P(0.50):N1} ms, p99 {P(0.99):N1} ms, max {latencies[^1]:N1} ms ({latencies.Count} samples)");
    }

    /// <summary>Produces <paramref name="count"/> events (all at once, or at <paramref name="rate"/>/s) and waits for each one's output.</summary>
    internal static async Task<(double PerSecond, List<double> LatencyMs)> Phase(
        string bootstrap, string topic, Measure measure, string phase, int count, int rate, int campaigns = 100)
    {
        measure.Expect(phase, count);
        if (rate == 0 && count > 1000) Console.WriteLine($"{phase}: producing {count} events");
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 5 }).Build();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            if (rate > 0)
            {
                var due = TimeSpan.FromSeconds((double)i / rate);
                if (due > clock.Elapsed) await Task.Delay(due - clock.Elapsed);
            }
            var user = $"{phase}-{i}";
            var json = $$$"""{"user_id":"{{{user}}}","name":"Event {{{i % campaigns}}}","ts":"{{{DateTimeOffset.UtcNow:O}}}","props":{"value":{{{i % 100 + 10}}}}}""";
            producer.Produce(topic, new Message<string, byte[]> { Key = user, Value = Encoding.UTF8.GetBytes(json) });
        }
        producer.Flush(TimeSpan.FromSeconds(60));
        await measure.Done.WaitAsync(TimeSpan.FromMinutes(5));
        return (count / clock.Elapsed.TotalSeconds, measure.Latencies);
    }

    internal static void Forward(string bootstrap, CancellationToken ct)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = "bench-forwarder", AutoOffsetReset = AutoOffsetReset.Earliest, FetchWaitMaxMs = FetchWaitMs,
        }).Build();
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 5 }).Build();
        consumer.Subscribe("bench.in");
        while (!ct.IsCancellationRequested)
        {
            var m = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (m is null) continue;
            producer.Produce("bench.out", new Message<string, byte[]> { Key = m.Message.Key, Value = m.Message.Value });
        }
        producer.Flush(TimeSpan.FromSeconds(10));
        consumer.Close();
    }

    /// <summary>Reads an output topic from its start and counts, per phase, the records whose user id carries it.</summary>
    internal sealed class Measure : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private readonly object _lock = new();
        private string _phase = "";
        private int _remaining;
        private TaskCompletionSource _done = new();

        public List<double> Latencies { get; private set; } = [];
        public Task Done => _done.Task;

        public Measure(string bootstrap, string topic, Func<byte[], (string User, DateTimeOffset Ts)> read)
        {
            _loop = Task.Factory.StartNew(() =>
            {
                using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
                {
                    BootstrapServers = bootstrap, GroupId = $"bench-measure-{Guid.NewGuid():N}", AutoOffsetReset = AutoOffsetReset.Earliest,
                    // The measuring reader should add as little as it can to what it measures.
                    FetchWaitMaxMs = 5,
                }).Build();
                consumer.Subscribe(topic);
                while (!_stop.IsCancellationRequested)
                {
                    var m = consumer.Consume(TimeSpan.FromMilliseconds(100));
                    if (m is null) continue;
                    var now = DateTimeOffset.UtcNow;
                    var (user, ts) = read(m.Message.Value);
                    lock (_lock)
                    {
                        if (!user.StartsWith(_phase + "-", StringComparison.Ordinal)) continue;
                        Latencies.Add((now - ts).TotalMilliseconds);
                        if (--_remaining == 0) _done.TrySetResult();
                    }
                }
                consumer.Close();
            }, TaskCreationOptions.LongRunning);
        }

        public void Expect(string phase, int count)
        {
            lock (_lock)
            {
                _phase = phase;
                _remaining = count;
                Latencies = [];
                _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _loop.Wait();
        }
    }
}
