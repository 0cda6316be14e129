using System.CommandLine;
using System.Diagnostics;
using Confluent.Kafka;
using Streams.Analytics;
using Streams.Core;
using Streams.Jobs;
using Streams.Kafka;

namespace Streams.Cli.Commands;

/// <summary>`streams generate`: a synthetic history, straight into the analytics store or to Kafka.</summary>
public static class GenerateCommand
{
    public static Command Build(TextWriter output)
    {
        var users = new Option<int>("--users") { Description = "Users (each gets one profile)", DefaultValueFactory = _ => 1000 };
        var days = new Option<int>("--days") { Description = "Days of history back from now", DefaultValueFactory = _ => 90 };
        var perUser = new Option<int>("--events-per-user") { Description = "Average events per user (activity is skewed)", DefaultValueFactory = _ => 20 };
        var to = new Option<string>("--to") { Description = "analytics: the analytics store (ClickHouse, else the DuckDB file); kafka: sms.profiles and sms.events", DefaultValueFactory = _ => "analytics" };
        to.AcceptOnlyFromAmong("analytics", "kafka");
        var seed = new Option<int>("--seed") { Description = "The same seed gives the same history", DefaultValueFactory = _ => 42 };
        var command = new Command("generate", "A synthetic history of profiles (six countries, phones, time zones, properties) and events, for trials and benchmarks")
        {
            users, days, perUser, to, seed,
        };
        command.SetAction(async (parse, ct) =>
        {
            var context = CliContext.From(parse);
            var (n, d, k) = (parse.GetValue(users), parse.GetValue(days), parse.GetValue(perUser));
            if (n < 1 || d < 1 || k < 0) throw new CliException("--users and --days must be at least 1, --events-per-user at least 0");
            var generator = new HistoryGenerator(n, d, k, TimeProvider.System.GetUtcNow(), parse.GetValue(seed));
            var clock = Stopwatch.StartNew();
            var (profiles, events) = parse.GetValue(to) == "kafka"
                ? ToKafka(context, generator)
                : await ToAnalyticsAsync(context, generator, ct);
            output.WriteLine($"generated {profiles} profiles and {events} events over {d} days in {clock.Elapsed.TotalSeconds:0.0} s");
            return 0;
        });
        return command;
    }

    private static async Task<(long, long)> ToAnalyticsAsync(CliContext context, HistoryGenerator generator, CancellationToken ct)
    {
        if (context.Options.ClickHouse is null && context.Embedded is not null)
            throw new CliException("the running embedded stack holds the DuckDB file: stop it, or use --to kafka");
        await using var store = context.DirectAnalytics(readOnly: false)!;
        await store.MigrateAsync(ct);
        long profiles = 0, events = 0;
        foreach (var batch in generator.Profiles().Chunk(20_000))
        {
            await store.InsertProfilesAsync(batch, ct);
            profiles += batch.Length;
        }
        foreach (var batch in generator.Events().Chunk(200_000))
        {
            await store.InsertEventsAsync(batch, ct);
            events += batch.Length;
        }
        await store.InsertPropertiesAsync(Known(generator), ct);
        return (profiles, events);
    }

    private static (long, long) ToKafka(CliContext context, HistoryGenerator generator)
    {
        var topics = context.Options.Topics;
        using var producer = CliContext.Producer(context.Bootstrap);
        long profiles = 0, events = 0;
        foreach (var p in generator.Profiles())
        {
            producer.Produce(topics.Profiles, topics.Profiles.Message(p.UserId, p));
            profiles++;
        }
        foreach (var e in generator.Events())
        {
            ProduceWaiting(producer, topics.Events, topics.Events.Message(e.UserId, e));
            events++;
        }
        if (producer.Flush(TimeSpan.FromSeconds(60)) > 0) throw new CliException("not every record reached Kafka within 60 s");
        return (profiles, events);
    }

    /// <summary>Produce, waiting for room when the client's queue is full (millions of records).</summary>
    private static void ProduceWaiting(IProducer<string, byte[]> producer, string topic, Message<string, byte[]> message)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, message);
                return;
            }
            catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(100));
            }
        }
    }

    private static List<PropertyKey> Known(HistoryGenerator generator)
    {
        var keys = new HashSet<PropertyKey>();
        foreach (var p in generator.Profiles().Take(1000))
            foreach (var k in p.Props!.Keys) keys.Add(new PropertyKey("profile", "", k));
        foreach (var e in generator.Events().Take(10_000))
            foreach (var k in e.Props.Keys) keys.Add(new PropertyKey("event", e.Name, k));
        return [.. keys];
    }
}
