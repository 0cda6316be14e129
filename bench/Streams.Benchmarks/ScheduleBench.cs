using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Mock;
using Streamiz.Kafka.Net.SerDes;
using Streams.Analytics;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Core.Schedules;
using Streams.Jobs.Scheduling;
using Streams.Kafka;
using Streams.Tests;
using Streams.Topologies.State;
using Streams.Topologies.Timers;

namespace Streams.Benchmarks;

/// <summary>
/// A scheduled run over a `streams generate` history on DuckDB, on the embedded mock cluster: the time from the
/// run's start (the scheduler's tick) until all its requests are in Kafka, beside a plain producer loop writing the
/// same number of encoded requests in the same run; then the same for a user-time-zone run (requests into
/// sms.scheduled), and the timer store those requests fill (the durable-timers RocksDB store, the requests piped
/// through the timer topology).
/// Run: dotnet run -c Release --project bench/Streams.Benchmarks -- schedule PATH-TO-analytics.duckdb [timers: yes|no]
/// (with yes, the user-zone run also keeps its requests for the timer store, which slows it: time it with no.)
/// </summary>
public static class ScheduleBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var path = args.ElementAtOrDefault(0) ?? throw new ArgumentException("schedule PATH-TO-analytics.duckdb [yes|no]");
        var timers = args.ElementAtOrDefault(1) != "no";
        Collect = timers;
        await using var store = DuckDbStore.Open(path, readOnly: true);
        using var kafka = new EmbeddedKafka();
        var topics = Topics.Default;
        EmbeddedKafka.EnsureTopics(kafka.Bootstrap, [.. topics.All, "bench.plain"]);
        using var producer = KafkaClients.Producer(kafka.Bootstrap);
        var now = DateTimeOffset.UtcNow;
        var users = await store.SegmentCountAsync(new AllOf([]), now);
        Console.WriteLine($"{users} users in {path}; mock cluster {kafka.Bootstrap}");

        var read = Stopwatch.StartNew();
        var profiles = 0;
        await foreach (var _ in store.SegmentProfilesAsync(new AllOf([]), now)) profiles++;
        Console.WriteLine($"the audience's profiles alone: {profiles} read and merged in {read.Elapsed.TotalSeconds:0.00} s");
        if (Environment.GetEnvironmentVariable("BENCH_ONLY_PROFILES") is not null)
        {
            for (var k = 0; k < 3; k++)
            {
                var sw = Stopwatch.StartNew();
                var m = 0;
                await foreach (var _ in store.SegmentProfilesAsync(new AllOf([]), now)) m++;
                Console.WriteLine($"profiles alone again: {m} in {sw.Elapsed.TotalSeconds:0.00} s");
            }
            return 0;
        }
        if (Environment.GetEnvironmentVariable("BENCH_PARTS") is not null)
        {
            using var connection = new DuckDB.NET.Data.DuckDBConnection($"Data Source={path};ACCESS_MODE=READ_ONLY");
            connection.Open();
            foreach (var parse in new[] { false, true })
            {
                var sw = Stopwatch.StartNew();
                using var cmd = connection.CreateCommand();
                cmd.CommandText = Analytics.Segments.SegmentSql.Profiles(new AllOf([]), Analytics.Segments.SqlDialect.DuckDb, now);
                using var reader = cmd.ExecuteReader();
                long n = 0;
                while (reader.Read())
                {
                    var a = reader.GetString(0); var b = reader.GetInt64(1); var c = reader.GetString(2); var d = reader.GetString(3); var e = reader.GetInt64(4); var f = reader.GetString(5);
                    if (parse) Funnel.PropsFromJson(f);
                    n++;
                }
                Console.WriteLine($"raw read of {n} profile rows{(parse ? " with props parsed" : "")}: {sw.Elapsed.TotalSeconds:0.00} s");
            }
        }
        var plain = Plain(producer, (int)users, now);
        Console.WriteLine($"plain producer loop: {users} encoded requests into Kafka in {plain.TotalSeconds:0.00} s ({users / plain.TotalSeconds:0} /s)");

        var (oneTime, oneCount) = await RunAsync(store, producer, kafka.Bootstrap, topics, now, """
            id: everyone
            name: Everyone
            type: scheduled
            when: {at: now}
            what: {provider: sandbox, text: "Hi {{ profile.first_name | default: 'there' }}"}
            """, topics.Requests);
        Console.WriteLine($"one-time run: {oneCount} requests in sms.requests in {oneTime.TotalSeconds:0.00} s ({oneCount / oneTime.TotalSeconds:0} /s); {oneTime / plain:0.00}x the plain loop");

        var plain2 = Plain(producer, (int)users, now);
        Console.WriteLine($"plain producer loop again: {plain2.TotalSeconds:0.00} s");

        var tomorrow = TimeZoneInfo.ConvertTime(now, Schedule.EarliestZone).Date.AddDays(2).AddHours(10);
        var (userZone, zoneCount) = await RunAsync(store, producer, kafka.Bootstrap, topics, now, $$"""
            id: morning
            name: Morning in each zone
            type: scheduled
            when: {at: "{{tomorrow:yyyy-MM-dd'T'HH:mm}}", deliver_in: user_timezone}
            what: {provider: sandbox, text: "Good morning"}
            """, topics.Scheduled, at: Timestamps.AtLocal(tomorrow, Schedule.EarliestZone));
        Console.WriteLine($"user-zone run: {zoneCount} requests in sms.scheduled in {userZone.TotalSeconds:0.00} s ({zoneCount / userZone.TotalSeconds:0} /s); {userZone / ((plain + plain2) / 2):0.00}x the plain loop");

        if (timers) TimerStore(topics);
        return 0;
    }

    private static TimeSpan Plain(IProducer<string, byte[]> producer, int count, DateTimeOffset now)
    {
        var clock = Stopwatch.StartNew();
        var props = new Dictionary<string, object?> { ["first_name"] = "Asha", ["city"] = "Mumbai" };
        for (var i = 0; i < count; i++)
        {
            var user = $"user-{i:D7}";
            var request = new SmsRequest(RequestIds.ForRun("plain@now", user), "plain", 1, user, now,
                new RequestContext(null, null, Props.Empty, "+919876543210", "Asia/Kolkata", true, props));
            while (true)
            {
                try
                {
                    producer.Produce("bench.plain", new Message<string, byte[]> { Key = user, Value = Codecs.SmsRequest.Encode(request) });
                    break;
                }
                catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(50));
                }
            }
        }
        while (producer.Flush(TimeSpan.FromSeconds(1)) > 0) { }
        return clock.Elapsed;
    }

    /// <summary>The user-zone run's requests as produced, for the timer store.</summary>
    private static readonly List<ScheduledRequest> Waiting = [];

    /// <summary>Only when the timer store is measured: holding a million requests costs the run itself time (GC).</summary>
    private static bool Collect;

    private sealed class Teed(IRunOutput inner) : IRunOutput
    {
        public void Request(SmsRequest request) => inner.Request(request);

        public void Scheduled(ScheduledRequest scheduled)
        {
            if (Collect) Waiting.Add(scheduled);
            inner.Scheduled(scheduled);
        }

        public Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);

        public IReadOnlyDictionary<string, long> Marks => inner.Marks;

        public Task<IReadOnlyDictionary<string, long>> EndsAsync(CancellationToken ct) => inner.EndsAsync(ct);

        public Task<IReadOnlySet<string>> ProducedSinceAsync(IReadOnlyDictionary<string, long> marks, string runKey, CancellationToken ct) =>
            inner.ProducedSinceAsync(marks, runKey, ct);
    }

    private static async Task<(TimeSpan, long)> RunAsync(IAnalyticsStore store, IProducer<string, byte[]> producer, string bootstrap, Topics topics,
        DateTimeOffset now, string yaml, Topic target, DateTimeOffset? at = null)
    {
        var spec = CampaignSpecParser.ParseValid(yaml);
        var record = new CampaignRecord(spec.Id, 1, CampaignStatus.Active, CampaignSpecParser.Parse(yaml).ToJson(), now);
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(at ?? now);
        var before = Count(bootstrap, target);
        using var loggers = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
        var scheduler = new Scheduler(store, () => [(record, spec)], () => [], new MemoryRunLog(), new Teed(new KafkaRunOutput(producer, topics, bootstrap, NullLogger.Instance)),
            new NoAlerts(), time, Microsoft.Extensions.Logging.LoggerFactoryExtensions.CreateLogger<Scheduler>(loggers))
        {
            CheckpointEvery = int.Parse(Environment.GetEnvironmentVariable("BENCH_CHECKPOINT") ?? "10000", CultureInfo.InvariantCulture),
        };
        var clock = Stopwatch.StartNew();
        var runs = await scheduler.TickAsync(CancellationToken.None);
        var elapsed = clock.Elapsed;
        var run = runs.Single();
        if (run.Status != RunStatus.Done) throw new InvalidOperationException($"run {run.RunId} ended {run.Status}");
        var count = Count(bootstrap, target) - before;
        if (count != run.Planned) throw new InvalidOperationException($"{count} records for {run.Planned} planned");
        return (elapsed, count);
    }

    private static long Count(string bootstrap, string topic)
    {
        using var consumer = KafkaClients.Reader(bootstrap, "bench-count", NullLogger.Instance);
        return TopicReader.Ends(consumer, topic).Values.Sum();
    }

    /// <summary>The user-zone run's requests through the durable-timers topology (RocksDB, as in production): the store's size on disk.</summary>
    private static void TimerStore(Topics topics)
    {
        using var dir = new TempDir();
        var builder = new StreamBuilder();
        ScheduledTopology.Build(builder, new ScheduledOptions { Topics = topics, Time = TimeProvider.System, ScanEvery = TimeSpan.FromHours(1) });
        var clock = Stopwatch.StartNew();
        long bytes = 0, disk, waiting;
        using (var driver = new TopologyTestDriver(builder.Build(), new StreamConfig<StringSerDes, ByteArraySerDes>
        {
            ApplicationId = "bench-timers", StateDir = dir.Path, Logger = NullLoggerFactory.Instance,
        }))
        {
            var input = driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(topics.Scheduled);
            foreach (var s in Waiting)
            {
                var value = Codecs.ScheduledRequest.Encode(s);
                input.PipeInput(s.Request.UserId, value);
                bytes += value.Length;
            }
            waiting = DueTimers.Waiting(driver.GetKeyValueStore<string, byte[]>(Topologies.StoreNames.Timers)).LongCount();
            disk = Directory.EnumerateFiles(dir.Path, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        }
        Console.WriteLine($"timer store: {Waiting.Count} requests piped through the durable-timers topology in {clock.Elapsed.TotalSeconds:0.0} s; it holds {waiting} timers, " +
            $"{bytes / 1e6:0.0} MB of values; RocksDB on disk {disk / 1e6:0.0} MB ({(double)disk / Math.Max(1, waiting):0} bytes a timer)");
    }

    private sealed class NoAlerts : IAlerts
    {
        public Task RaiseAsync(Alert alert, IReadOnlyDictionary<string, object?> details, CancellationToken ct) => Task.CompletedTask;
    }
}
