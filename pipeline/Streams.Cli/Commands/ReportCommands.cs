using System.CommandLine;
using Streams.Analytics;
using Streams.Analytics.Reports;
using Streams.Pipeline;

namespace Streams.Cli.Commands;

/// <summary>`streams report` and `streams why`: read from ClickHouse, the running embedded pipeline, or its DuckDB file.</summary>
public static class ReportCommands
{
    public static Command Report(TextWriter output)
    {
        var campaign = new Option<string?>("--campaign") { Description = "Only this campaign" };
        var run = new Option<string?>("--run") { Description = "Only this run of a scheduled campaign (a run id as `campaign runs` lists it)" };
        var from = new Option<string?>("--from") { Description = "Results from this date (yyyy-MM-dd, UTC) or instant" };
        var to = new Option<string?>("--to") { Description = "Results before this date or instant" };
        var format = new Option<string>("--format") { Description = "table, json, csv or html (one self-contained page)", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong([.. ReportFormats.Names]);
        var file = new Option<string?>("--output", "-o") { Description = "Write to this file instead of the terminal" };
        var command = new Command("report", "Funnel to conversions, rates, cost units, days in the campaign's zone, and lift with its interval")
            { campaign, run, from, to, format, file };
        command.SetAction(async (parse, ct) =>
        {
            var context = CliContext.From(parse);
            ReportFilter filter;
            try
            {
                filter = ReportRequest.Filter(parse.GetValue(campaign), parse.GetValue(run), parse.GetValue(from), parse.GetValue(to));
            }
            catch (ArgumentException e)
            {
                throw new CliException(e.Message);
            }
            await using var reader = Open(context);
            var text = await reader.ReportAsync(context, filter, parse.GetValue(format)!, ct);
            if (parse.GetValue(file) is { } path)
            {
                await File.WriteAllTextAsync(path, text, ct);
                output.WriteLine($"report written to {path}");
            }
            else output.Write(text);
            return 0;
        });
        return command;
    }

    public static Command Why(TextWriter output)
    {
        var campaign = new Option<string?>("--campaign") { Description = "Only this campaign's requests" };
        var user = new Option<string?>("--user") { Description = "The user whose story to tell" };
        var request = new Option<string?>("--request") { Description = "One request's story" };
        var format = new Option<string>("--format") { Description = "text or json", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var command = new Command("why", "One user's story: each request with its trigger, every decision and reason, delivery reports and conversions")
            { campaign, user, request, format };
        command.SetAction(async (parse, ct) =>
        {
            var context = CliContext.From(parse);
            if (parse.GetValue(user) is null && parse.GetValue(request) is null) throw new CliException("why needs --user (with or without --campaign) or --request");
            await using var reader = Open(context);
            var story = await reader.StoryAsync(parse.GetValue(campaign), parse.GetValue(user), parse.GetValue(request), ct);
            output.Write(parse.GetValue(format) == "json" ? System.Text.Json.JsonSerializer.Serialize(story, AnalyticsJson.Options) + "\n" : WhyText.Render(story));
            return 0;
        });
        return command;
    }

    private static AnalyticsReader Open(CliContext context) => AnalyticsReader.Open(context)
        ?? throw new CliException($"no analytics configured (clickhouse.url) and no embedded data in {context.Options.StateDir}");
}
