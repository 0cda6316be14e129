using System.CommandLine;
using System.Text.Json;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Pipeline;
using Streams.Pipeline.Simulation;

namespace Streams.Cli.Commands;

/// <summary>`streams simulate`: a dry run of campaigns over recorded events, on a virtual clock. Needs no Kafka, Redis or ClickHouse.</summary>
public static class SimulateCommand
{
    public static Command Build(TextWriter output)
    {
        var campaigns = new Option<string[]>("--campaign", "-c")
        {
            Description = "Campaign spec file(s), YAML or JSON", Required = true, AllowMultipleArgumentsPerToken = true,
        };
        var events = new Option<string>("--events") { Description = "User events, JSONL", Required = true };
        var profiles = new Option<string?>("--profiles") { Description = "Profile updates, JSONL" };
        var inbound = new Option<string?>("--inbound") { Description = "Inbound messages (STOP, START, ...), JSONL as sms.inbound takes them" };
        var from = new Option<string?>("--from") { Description = "Start the clock here if earlier than the first record (ISO-8601 with offset)" };
        var to = new Option<string?>("--to") { Description = "Run the clock to here if later than the last record, so pending timers can fire" };
        var command = new Command("simulate",
            "Dry-run campaigns through the live topologies and the dispatcher's rules on a virtual clock; one JSON line per request outcome")
        {
            campaigns, events, profiles, inbound, from, to,
        };
        command.SetAction(async (parse, ct) =>
        {
            var context = CliContext.From(parse);
            var options = context.Options;
            var records = new List<CampaignRecord>();
            foreach (var file in parse.GetValue(campaigns)!)
            {
                var text = CliContext.ReadFile(file);
                CliContext.Validate(file, text);
                var parsed = CampaignSpecParser.Parse(text);
                var unsupported = SupportCheck.UnsupportedPaths(parsed.Spec!, parsed.Document);
                if (unsupported.Count > 0) throw new CliException($"{file}: not supported yet: {string.Join(", ", unsupported)}");
                // The live pipeline judges a ref from the segment job's memberships; a simulation has no analytics history.
                if (Pipeline.SegmentClient.HasRefs(parsed.Spec!.Who.Segment))
                    throw new CliException($"{file}: not supported yet: who.segment.ref in simulate (memberships come from the segment job over the analytics store; inline the conditions to simulate)");
                // A campaign live would refuse at apply is refused here too, rather than simulated as sent.
                if (CampaignChecks.AgainstConfiguration(parsed.Spec!, options) is { Count: > 0 } problems)
                    throw new CliException($"{file}: {string.Join("; ", problems)}");
                if (records.Any(r => r.Id == parsed.Spec!.Id)) throw new CliException($"{file}: campaign id '{parsed.Spec!.Id}' given twice");
                records.Add(new CampaignRecord(parsed.Spec!.Id, 1, CampaignStatus.Active, parsed.ToJson(), DateTimeOffset.UnixEpoch));
            }
            var inputs = DataCommands.ReadLines(parse.GetValue(events)!, "events", options.MaxInputBytes)
                .Select(r => new SimulationInput(options.Topics.Events, r.Key, r.Value, r.Ts)).ToList();
            if (parse.GetValue(profiles) is { } profileFile)
                inputs.AddRange(DataCommands.ReadLines(profileFile, "profiles", options.MaxInputBytes)
                    .Select(r => new SimulationInput(options.Topics.Profiles, r.Key, r.Value, r.Ts)));
            if (parse.GetValue(inbound) is { } inboundFile)
                inputs.AddRange(DataCommands.ReadLines(inboundFile, "inbound", options.MaxInputBytes)
                    .Select(r => new SimulationInput(options.Topics.Inbound, r.Key, r.Value, r.Ts)));

            var outcomes = await new Simulator(options).RunAsync(records, inputs, Instant(parse.GetValue(from), "--from"), Instant(parse.GetValue(to), "--to"), ct);
            foreach (var o in outcomes) output.WriteLine(Line(o));
            return 0;
        });
        return command;
    }

    private static DateTimeOffset? Instant(string? text, string option)
    {
        if (text is null) return null;
        return Timestamps.TryParseInstant(text, out var t)
            ? t
            : throw new CliException($"{option} {text}: {Timestamps.WhyNotInstant(text)}");
    }

    /// <summary>Stable keys in a stable order; `at` is ISO-8601 UTC with milliseconds.</summary>
    public static string Line(SimulatedOutcome o)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = CliContext.Json.Encoder }))
        {
            w.WriteStartObject();
            w.WriteString("campaign_id", o.CampaignId);
            w.WriteString("user_id", o.UserId);
            w.WriteString("request_id", o.RequestId);
            w.WriteString("status", o.Status);
            w.WriteString("reason", o.Reason);
            w.WriteString("at", o.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("text", o.Text);
            w.WriteString("to", o.To);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
