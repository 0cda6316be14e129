using System.CommandLine;
using System.Text;
using Streams.Analytics.Segments;
using Streams.Core.Campaigns;
using Streams.Pipeline;

namespace Streams.Cli.Commands;

/// <summary>Saved segments as code: validate, apply, list, get, count, export.</summary>
public static class SegmentCommands
{
    public static Command Build(TextWriter output)
    {
        var segment = new Command("segment", "Saved segments as code: validate, apply, list, get, count, export");
        segment.Subcommands.Add(Validate(output));
        segment.Subcommands.Add(Apply(output));
        segment.Subcommands.Add(List(output));
        segment.Subcommands.Add(Get(output));
        segment.Subcommands.Add(Count(output));
        segment.Subcommands.Add(Export(output));
        return segment;
    }

    private static Option<string[]> Files() => new("--file", "-f")
    {
        Description = "Segment file(s), YAML or JSON: {id, name, segment}",
        Required = true,
        AllowMultipleArgumentsPerToken = true,
    };

    private static Command Validate(TextWriter output)
    {
        var files = Files();
        var command = new Command("validate", "Check segment files; list every problem with its path (refs are checked against the saved segments at apply)") { files };
        command.SetAction(parse =>
        {
            var failed = 0;
            foreach (var file in parse.GetValue(files)!)
            {
                var result = CampaignSpecParser.ParseSegment(CliContext.ReadFile(file));
                if (result.IsValid) output.WriteLine($"{file}: ok ({result.Segment!.Id})");
                else
                {
                    failed++;
                    foreach (var problem in result.Problems) output.WriteLine($"{file}: {problem}");
                }
            }
            if (failed > 0) throw new CliException($"{failed} of {parse.GetValue(files)!.Length} segment file(s) invalid");
            return 0;
        });
        return command;
    }

    private static Command Apply(TextWriter output)
    {
        var files = Files();
        var command = new Command("apply", "Validate and save segments to sms.segments (a new version when one changed); refs must name saved segments, without cycles") { files };
        command.SetAction(async (parse, ct) =>
        {
            var client = CliContext.From(parse).Segments();
            foreach (var file in parse.GetValue(files)!)
            {
                try
                {
                    var (record, changed) = await client.ApplyAsync(CliContext.ReadFile(file));
                    output.WriteLine(changed ? $"applied segment {record.Id} v{record.Version}" : $"segment {record.Id} unchanged (v{record.Version})");
                }
                catch (CampaignException e) { throw new CliException($"{file}: {e.Message}"); }
            }
            return 0;
        });
        return command;
    }

    private static Command List(TextWriter output)
    {
        var command = new Command("list", "The saved segments, latest versions");
        command.SetAction(parse =>
        {
            var saved = CliContext.From(parse).Segments().List();
            output.WriteLine($"{"ID",-24} {"VERSION",7}  NAME");
            foreach (var s in saved) output.WriteLine($"{s.Record.Id,-24} {s.Record.Version,7}  {s.Segment.Name}");
            return 0;
        });
        return command;
    }

    private static Command Get(TextWriter output)
    {
        var id = new Argument<string>("id") { Description = "Saved segment id" };
        var command = new Command("get", "A saved segment's definition (JSON)") { id };
        command.SetAction(parse =>
        {
            var saved = CliContext.From(parse).Segments().Get(parse.GetValue(id)!) ?? throw new CliException($"no saved segment '{parse.GetValue(id)}'");
            output.WriteLine(saved.Record.SpecJson);
            return 0;
        });
        return command;
    }

    /// <summary>The segment by id, or from -f (refs resolve against the saved ones either way).</summary>
    private static (SavedSegment Segment, string Json, IReadOnlyList<SegmentClient.Saved> Saved) Target(CliContext context, string? id, string? file)
    {
        if ((id is null) == (file is null)) throw new CliException("name a saved segment id or give -f FILE (one of them)");
        if (id is not null)
        {
            var saved = context.Segments().List();
            var found = saved.FirstOrDefault(s => s.Record.Id == id) ?? throw new CliException($"no saved segment '{id}'");
            return (found.Segment, found.Record.SpecJson, saved);
        }
        var parsed = CampaignSpecParser.ParseSegment(CliContext.ReadFile(file!));
        if (!parsed.IsValid) throw new CliException($"{file}: {string.Join("; ", parsed.Problems)}");
        // A file without refs needs no Kafka: only refs are read from sms.segments.
        return (parsed.Segment!, parsed.ToJson(), SegmentClient.HasRefs(parsed.Segment!.Segment) ? context.Segments().List() : []);
    }

    /// <summary>The segment (its refs checked) and the analytics store to judge it over.</summary>
    private static (SavedSegment Segment, string Json, IReadOnlyList<SegmentClient.Saved> Saved, AnalyticsReader Reader) Open(CliContext context, string? id, string? file)
    {
        var (segment, json, saved) = Target(context, id, file);
        try
        {
            SegmentClient.CheckRefs(segment.Segment, SegmentClient.Resolver(saved));
        }
        catch (SegmentException e) { throw new CliException(e.Message); }
        var reader = AnalyticsReader.Open(context)
            ?? throw new CliException($"no analytics configured (clickhouse.url) and no embedded data in {context.Options.StateDir}");
        return (segment, json, saved, reader);
    }

    private static Command Count(TextWriter output)
    {
        var id = new Argument<string?>("id") { Description = "Saved segment id", Arity = ArgumentArity.ZeroOrOne };
        var file = new Option<string?>("--file", "-f") { Description = "A segment file instead of a saved id" };
        var command = new Command("count", "How many users a segment holds now, over the analytics store (the number is the last line)") { id, file };
        command.SetAction(async (parse, ct) =>
        {
            var (segment, json, saved, reader) = Open(CliContext.From(parse), parse.GetValue(id), parse.GetValue(file));
            await using var _ = reader;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var n = await reader.SegmentCountAsync(segment, json, saved, TimeProvider.System.GetUtcNow(), ct);
            output.WriteLine($"segment {segment.Id}: counted in {clock.Elapsed.TotalMilliseconds:0} ms");
            output.WriteLine(n.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return 0;
        });
        return command;
    }

    private static Command Export(TextWriter output)
    {
        var id = new Argument<string?>("id") { Description = "Saved segment id", Arity = ArgumentArity.ZeroOrOne };
        var file = new Option<string?>("--file", "-f") { Description = "A segment file instead of a saved id" };
        var format = new Option<string>("--format") { Description = "ids: one user id a line; csv: user_id,phone,timezone", DefaultValueFactory = _ => "ids" };
        format.AcceptOnlyFromAmong("ids", "csv");
        var to = new Option<string?>("--out", "-o") { Description = "Write to this file instead of standard output" };
        var command = new Command("export", "The segment's members now, over the analytics store") { id, file, format, to };
        command.SetAction(async (parse, ct) =>
        {
            var (segment, json, saved, reader) = Open(CliContext.From(parse), parse.GetValue(id), parse.GetValue(file));
            await using var _ = reader;
            var members = await reader.SegmentAsync(segment, json, saved, TimeProvider.System.GetUtcNow(), ct);
            var text = new StringBuilder();
            if (parse.GetValue(format) == "csv")
            {
                text.Append("user_id,phone,timezone\n");
                foreach (var m in members) text.Append(Csv(m.UserId)).Append(',').Append(Csv(m.Phone)).Append(',').Append(Csv(m.Timezone)).Append('\n');
            }
            else
            {
                foreach (var m in members) text.Append(m.UserId).Append('\n');
            }
            if (parse.GetValue(to) is { } path)
            {
                await File.WriteAllTextAsync(path, text.ToString(), ct);
                output.WriteLine($"wrote {members.Count} users of segment {segment.Id} to {path}");
            }
            else output.Write(text.ToString());
            return 0;
        });
        return command;
    }

    private static string Csv(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
