using System.CommandLine;
using System.Text.Json;
using Streams.Core;
using Streams.Analytics;
using Streams.Core.Schedules;
using Streams.Pipeline;

namespace Streams.Cli.Commands;

/// <summary>`streams campaign runs ID`, `approve ID --run R`, and the `--run` of `stop`: a scheduled campaign's runs.</summary>
public static class CampaignRunCommands
{
    public static Command Runs(TextWriter output)
    {
        var id = new Argument<string>("id") { Description = "Campaign id" };
        var format = new Option<string>("--format") { Description = "table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("runs", "A scheduled campaign's runs: status, qualified, planned, sent, delivered") { id, format };
        command.SetAction(async (parse, ct) =>
        {
            var context = CliContext.From(parse);
            var campaign = parse.GetValue(id)!;
            var runs = context.Runs().List(campaign);
            if (runs.Count == 0 && await context.Campaigns().GetAsync(campaign) is null) throw new CliException($"no campaign '{campaign}'");
            IReadOnlyDictionary<string, RunCounts> counts = new Dictionary<string, RunCounts>();
            await using (var reader = AnalyticsReader.Open(context))
            {
                if (reader is not null) counts = await reader.RunCountsAsync(campaign, ct);
            }
            var rows = runs.Select(r => (Run: r, Counts: counts.GetValueOrDefault(RequestIds.RunKey(r.RunId)) ?? new RunCounts(0, 0))).ToList();
            if (parse.GetValue(format) == "json")
            {
                output.WriteLine(JsonSerializer.Serialize(rows.Select(x => new RunSummary(
                    x.Run.RunId, x.Run.Occurrence, x.Run.Status, x.Run.Qualified, x.Run.Planned, x.Counts.Sent, x.Counts.Delivered,
                    x.Run.NotSampled, x.Run.OverLimit, x.Run.LateSkipped, x.Run.Reason, x.Run.Zones ?? new Dictionary<string, long>())), CliContext.Json));
                return 0;
            }
            output.WriteLine($"{"RUN",-40} {"OCCURRENCE (UTC)",-17} {"STATUS",-9} {"QUALIFIED",9} {"PLANNED",9} {"SENT",9} {"DELIVERED",9}  NOTE");
            foreach (var (run, c) in rows)
            {
                var note = run.Reason ?? (run.LateSkipped > 0 ? $"{run.LateSkipped} in zones already past skipped" : "");
                output.WriteLine($"{DataCommands.Cut(run.RunId, 40),-40} {run.Occurrence.UtcDateTime,-17:yyyy-MM-dd HH:mm} {run.Status,-9} {run.Qualified,9} {run.Planned,9} {c.Sent,9} {c.Delivered,9}  {note}");
                if (run.Zones is { Count: > 0 } zones)
                    output.WriteLine($"{"",-40} by zone: {string.Join(", ", zones.OrderByDescending(z => z.Value).ThenBy(z => z.Key, StringComparer.Ordinal).Select(z => $"{z.Key} {z.Value}"))}");
            }
            return 0;
        });
        return command;
    }

    public static Command Approve(TextWriter output)
    {
        var id = new Argument<string>("id") { Description = "Campaign id" };
        var run = RunOption(required: true);
        var command = new Command("approve", "Release a run held by the safety check: the scheduler plans it") { id, run };
        command.SetAction(async (parse, ct) =>
        {
            var changed = await CliContext.From(parse).Runs().ApproveAsync(parse.GetValue(id)!, parse.GetValue(run)!);
            output.WriteLine($"{changed.RunId} {changed.Status}");
            return 0;
        });
        return command;
    }

    public static Option<string> RunOption(bool required) => new("--run") { Description = "A run id (see `streams campaign runs ID`)", Required = required };

    /// <summary>`stop ID --run R`: ends one run (held, releasing or being planned) instead of the campaign.</summary>
    public static async Task<int> StopRunAsync(CliContext context, string campaign, string runId, TextWriter output)
    {
        var changed = await context.Runs().StopAsync(campaign, runId);
        output.WriteLine($"{changed.RunId} {changed.Status}");
        return 0;
    }

    private sealed record RunSummary(string RunId, DateTimeOffset Occurrence, string Status, long Qualified, long Planned, long Sent, long Delivered,
        long NotSampled, long OverLimit, long LateSkipped, string? Reason, IReadOnlyDictionary<string, long> Zones);
}
