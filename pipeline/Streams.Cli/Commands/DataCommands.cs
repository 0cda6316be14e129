using System.CommandLine;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Streams.Analytics;
using Streams.Core;
using Streams.Kafka;

namespace Streams.Cli.Commands;

public static class DataCommands
{
    /// <summary>`events send` / `profiles send`: every line is checked first; one bad line sends nothing.</summary>
    public static Command Send(string what, string description, TextWriter output)
    {
        var file = new Option<string>("--file", "-f") { Description = "JSONL file, one record per line", Required = true };
        var send = new Command("send", description) { file };
        send.SetAction(async (parse, ct) =>
        {
            var context = CliContext.From(parse);
            var path = parse.GetValue(file)!;
            var records = ReadLines(path, what, context.Options.MaxInputBytes);
            Topic topic = what == "events" ? context.Options.Topics.Events : context.Options.Topics.Profiles;
            using var producer = CliContext.Producer(context.Bootstrap);
            foreach (var (key, bytes, _) in records)
                producer.Produce(topic, new Message<string, byte[]> { Key = key, Value = bytes });
            if (producer.Flush(TimeSpan.FromSeconds(30)) > 0) throw new CliException($"not every record reached {topic} within 30s");
            output.WriteLine($"sent {records.Count} {what} to {topic}");
            return 0;
        });
        var command = new Command(what, $"Produce {what}") { send };
        return command;
    }

    /// <summary>Every line decoded as its topic would decode it; the first bad line is one error naming file and line.</summary>
    public static List<(string Key, byte[] Value, DateTimeOffset Ts)> ReadLines(string path, string what, int maxBytes)
    {
        if (!File.Exists(path)) throw new CliException($"file not found: {path}");
        var records = new List<(string, byte[], DateTimeOffset)>();
        var n = 0;
        foreach (var line in File.ReadLines(path))
        {
            n++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var bytes = Encoding.UTF8.GetBytes(line);
            string key;
            DateTimeOffset ts;
            if (what == "events")
            {
                var d = Codecs.UserEvent.TryDecode(bytes, maxBytes);
                if (!d.Ok) throw new CliException($"{path}:{n}: {d.Error!.Reason}: {d.Error.Message}");
                (key, ts) = (d.Value!.UserId, d.Value.Ts);
            }
            else if (what == "inbound")
            {
                var d = Codecs.InboundMessage.TryDecode(bytes, maxBytes);
                if (!d.Ok) throw new CliException($"{path}:{n}: {d.Error!.Reason}: {d.Error.Message}");
                (key, ts) = (d.Value!.From, d.Value.ReceivedAt);
            }
            else
            {
                var d = Codecs.ProfileUpdate.TryDecode(bytes, maxBytes);
                if (!d.Ok) throw new CliException($"{path}:{n}: {d.Error!.Reason}: {d.Error.Message}");
                (key, ts) = (d.Value!.UserId, d.Value.Ts);
            }
            records.Add((key, bytes, ts));
        }
        return records;
    }

    /// <summary>A value cut to its column with an ellipsis, so one long id never shifts the columns after it.</summary>
    public static string Cut(string? value, int width) =>
        value is null ? "" : value.Length <= width ? value : value[..(width - 1)] + "…";

    public static Command Topics(TextWriter output)
    {
        var partitions = new Option<int>("--partitions") { Description = "Partitions per topic (sms.runs always has one; sms.campaigns, sms.segments, sms.memberships and sms.runs are compacted)", DefaultValueFactory = _ => 12 };
        var replication = new Option<short>("--replication-factor") { DefaultValueFactory = _ => 3 };
        var create = new Command("create", "Create every topic on the configured cluster") { partitions, replication };
        create.SetAction(async (parse, ct) =>
        {
            var context = CliContext.From(parse);
            if (context.Options.Kafka.Bootstrap is null) throw new CliException("topics create needs kafka.bootstrap (the embedded cluster creates its own)");
            using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = context.Bootstrap }).Build();
            var specs = context.Options.Topics.All.Select(t => new TopicSpecification
            {
                Name = t,
                // One partition: the scheduler that owns it is the one that plans runs.
                NumPartitions = t == context.Options.Topics.Runs.Name ? 1 : parse.GetValue(partitions),
                ReplicationFactor = parse.GetValue(replication),
                Configs = context.Options.Topics.Compacted.Contains(t) ? new Dictionary<string, string> { ["cleanup.policy"] = "compact" } : null,
            }).ToList();
            try
            {
                await admin.CreateTopicsAsync(specs);
            }
            catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists))
            {
            }
            output.WriteLine($"topics ready: {string.Join(", ", context.Options.Topics.All)}");
            return 0;
        });
        return new Command("topics", "Kafka topics") { create };
    }

    public static Command ClickHouse(TextWriter output)
    {
        var migrate = new Command("migrate", "Create the ClickHouse database and tables (idempotent)");
        migrate.SetAction(async (parse, ct) =>
        {
            var context = CliContext.From(parse);
            if (context.Options.ClickHouse is null) throw new CliException("clickhouse migrate needs clickhouse.url");
            await using var store = context.DirectAnalytics(readOnly: false)!;
            await store.MigrateAsync(ct);
            output.WriteLine($"clickhouse database {context.Options.ClickHouse.Database} ready");
            return 0;
        });
        return new Command("clickhouse", "ClickHouse schema") { migrate };
    }
}
