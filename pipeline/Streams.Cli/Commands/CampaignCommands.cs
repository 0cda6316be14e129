using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Core.Templates;
using Streams.Dispatcher.Providers;
using Streams.Dispatcher;
using Streams.Pipeline;

namespace Streams.Cli.Commands;

public static class CampaignCommands
{
    public static Command Build(TextWriter output)
    {
        var campaign = new Command("campaign", "Campaigns as code: validate, apply, list, get, pause, resume, stop; a scheduled campaign's runs and approve");
        campaign.Subcommands.Add(Validate(output));
        campaign.Subcommands.Add(Apply(output));
        campaign.Subcommands.Add(Estimate(output));
        campaign.Subcommands.Add(Test(output));
        campaign.Subcommands.Add(List(output));
        campaign.Subcommands.Add(Get(output));
        campaign.Subcommands.Add(Status("pause", "Pause a campaign: its pending requests are suppressed as campaign_inactive", CampaignStatus.Paused, output));
        campaign.Subcommands.Add(Status("resume", "Resume a paused campaign (a completed one reached its reach limit, a stopped one ended: apply again instead)", CampaignStatus.Active, output));
        campaign.Subcommands.Add(Status("stop", "Stop a campaign for good (apply it again to start a new version); with --run, end that run only", CampaignStatus.Stopped, output));
        campaign.Subcommands.Add(CampaignRunCommands.Runs(output));
        campaign.Subcommands.Add(CampaignRunCommands.Approve(output));
        return campaign;
    }

    private static Option<string[]> Files() => new("--file", "-f")
    {
        Description = "Campaign spec file(s), YAML or JSON",
        Required = true,
        AllowMultipleArgumentsPerToken = true,
    };

    private static Option<string> Format(params string[] formats)
    {
        var option = new Option<string>("--format") { Description = "Output format", DefaultValueFactory = _ => formats[0] };
        option.AcceptOnlyFromAmong(formats);
        return option;
    }

    private static Command Validate(TextWriter output)
    {
        var files = Files();
        var command = new Command("validate", "Check spec files; list every problem with its path and reason") { files };
        command.SetAction(async (parse, ct) =>
        {
            var context = CliContext.From(parse);
            var options = context.Options;
            var failed = 0;
            foreach (var file in parse.GetValue(files)!)
            {
                var result = CampaignSpecParser.Parse(CliContext.ReadFile(file));
                if (!result.IsValid)
                {
                    failed++;
                    foreach (var problem in result.Problems) output.WriteLine($"{file}: {problem}");
                    continue;
                }
                output.WriteLine($"{file}: ok ({result.Spec!.Id}, {result.Spec.Type.ToString().ToLowerInvariant()})");
                output.WriteLine($"{file}: preview: {Preview(result.Spec)}");
                var unsupported = SupportCheck.UnsupportedPaths(result.Spec, result.Document);
                if (unsupported.Count > 0) output.WriteLine($"{file}: note: apply will refuse, not supported yet: {string.Join(", ", unsupported)}");
                // validate may run without the deployment's configuration: what depends on it is a warning here, an error at apply.
                foreach (var problem in CampaignChecks.AgainstConfiguration(result.Spec, options))
                    output.WriteLine($"warning: {file}: {problem} (apply with this configuration refuses it)");
                await EstimateLineAsync(context, file, result.Spec, result.ToJson(), output, ct);
            }
            if (failed > 0) throw new CliException($"{failed} of {parse.GetValue(files)!.Length} spec file(s) invalid");
            return 0;
        });
        return command;
    }

    private static Command Apply(TextWriter output)
    {
        var files = Files();
        var command = new Command("apply", "Validate and write campaigns to sms.campaigns (a new version when the spec changed)") { files };
        command.SetAction(async (parse, ct) =>
        {
            var context = CliContext.From(parse);
            var texts = parse.GetValue(files)!.Select(f => (File: f, Text: CliContext.ReadFile(f))).ToList();
            foreach (var (file, text) in texts)
            {
                CliContext.Validate(file, text);
                var parsed = CampaignSpecParser.Parse(text);
                var unsupported = SupportCheck.UnsupportedPaths(parsed.Spec!, parsed.Document);
                if (unsupported.Count > 0) throw new CliException($"{file}: not supported yet: {string.Join(", ", unsupported)}");
                if (CampaignChecks.AgainstConfiguration(parsed.Spec!, context.Options) is { Count: > 0 } problems)
                    throw new CliException($"{file}: {string.Join("; ", problems)}");
                if (Core.Schedules.Schedule.PastProblems(parsed.Spec!, TimeProvider.System.GetUtcNow()) is { Count: > 0 } past)
                    throw new CliException($"{file}: {string.Join("; ", past)}");
            }
            await WarnUnknownVariablesAsync(context, texts, output, ct);
            var client = context.Campaigns();
            foreach (var (file, text) in texts)
            {
                ApplyOutcome outcome;
                try { outcome = await client.ApplyAsync(text); }
                catch (CampaignException e) { throw new CliException($"{file}: {e.Message}"); }
                output.WriteLine(outcome.Changed
                    ? $"applied {outcome.Record.Id} v{outcome.Record.Version}"
                    : $"unchanged {outcome.Record.Id} v{outcome.Record.Version}");
                var parsed = CampaignSpecParser.Parse(text);
                await EstimateLineAsync(context, file, parsed.Spec!, parsed.ToJson(), output, ct);
            }
            return 0;
        });
        return command;
    }

    private static Command List(TextWriter output)
    {
        var format = Format("table", "json");
        var command = new Command("list", "List campaigns with their version and status") { format };
        command.SetAction(async (parse, ct) =>
        {
            var entries = await CliContext.From(parse).Campaigns().ListAsync();
            if (parse.GetValue(format) == "json")
            {
                output.WriteLine(JsonSerializer.Serialize(entries.Select(Summary), CliContext.Json));
                return 0;
            }
            // VERSION counts the record's changes: a changed spec applied, and each pause, resume or stop (completion keeps it).
            output.WriteLine($"{"ID",-24} {"VERSION",7}  {"STATUS",-9} {"TYPE",-9} NAME");
            foreach (var e in entries)
                output.WriteLine($"{DataCommands.Cut(e.Record.Id, 24),-24} {e.Record.Version,7}  {Lower(e.Record.Status),-9} {e.Spec?.Type.ToString().ToLowerInvariant(),-9} {e.Spec?.Name}");
            return 0;
        });
        return command;
    }

    private static Command Get(TextWriter output)
    {
        var id = new Argument<string>("id") { Description = "Campaign id" };
        var command = new Command("get", "Print a campaign record (JSON) with its spec") { id };
        command.SetAction(async (parse, ct) =>
        {
            var entry = await CliContext.From(parse).Campaigns().GetAsync(parse.GetValue(id)!)
                ?? throw new CliException($"no campaign '{parse.GetValue(id)}'");
            var json = JsonSerializer.SerializeToNode(Summary(entry), CliContext.Json)!.AsObject();
            json["spec"] = JsonNode.Parse(entry.Record.SpecJson);
            output.WriteLine(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = CliContext.Json.Encoder }));
            return 0;
        });
        return command;
    }

    private static Command Status(string name, string description, CampaignStatus status, TextWriter output)
    {
        var id = new Argument<string>("id") { Description = "Campaign id" };
        var command = new Command(name, description) { id };
        var run = CampaignRunCommands.RunOption(required: false);
        if (status == CampaignStatus.Stopped) command.Options.Add(run);
        command.SetAction(async (parse, ct) =>
        {
            if (status == CampaignStatus.Stopped && parse.GetValue(run) is { } runId)
                return await CampaignRunCommands.StopRunAsync(CliContext.From(parse), parse.GetValue(id)!, runId, output);
            var record = await CliContext.From(parse).Campaigns().SetStatusAsync(parse.GetValue(id)!, status);
            output.WriteLine($"{record.Id} v{record.Version} {Lower(record.Status)}");
            return 0;
        });
        return command;
    }

    private static Command Estimate(TextWriter output)
    {
        var file = new Option<string>("--file", "-f") { Description = "Campaign spec file, YAML or JSON", Required = true };
        var format = Format("table", "json");
        var command = new Command("estimate",
            "The reach funnel over the analytics store now: qualified, without a valid phone, opted out, control group, not sampled, over the limit, reachable; by country and time zone; cost units and the time to send")
        {
            file, format,
        };
        command.SetAction(async (parse, ct) =>
        {
            var context = CliContext.From(parse);
            var path = parse.GetValue(file)!;
            var parsed = CampaignSpecParser.Parse(CliContext.ReadFile(path));
            if (!parsed.IsValid) throw new CliException($"{path}: " + string.Join("; ", parsed.Problems));
            await using var reader = AnalyticsReader.Open(context)
                ?? throw new CliException($"no analytics configured (clickhouse.url) and no embedded data in {context.Options.StateDir}");
            var saved = SegmentClient.HasRefs(parsed.Spec!.Who.Segment) ? context.Segments().List() : [];
            Pipeline.Estimates.ReachEstimate estimate;
            try
            {
                estimate = await reader.EstimateAsync(context, parsed.Spec!, parsed.ToJson(), saved, TimeProvider.System.GetUtcNow(), ct);
            }
            catch (Analytics.Segments.SegmentException e) { throw new CliException($"{path}: {e.Message}"); }
            if (parse.GetValue(format) == "json") output.WriteLine(JsonSerializer.Serialize(estimate, CliContext.Json));
            else output.Write(EstimateTable(estimate));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The reach in one line, when an analytics store can be read (ClickHouse, the running embedded stack, or its
    /// file); nothing without one, and a note instead of a failure when the estimate cannot be made.
    /// </summary>
    private static async Task EstimateLineAsync(CliContext context, string file, CampaignSpec spec, string json, TextWriter output, CancellationToken ct)
    {
        try
        {
            await using var reader = AnalyticsReader.Open(context);
            if (reader is null) return;
            var saved = SegmentClient.HasRefs(spec.Who.Segment) ? context.Segments().List() : [];
            var e = await reader.EstimateAsync(context, spec, json, saved, TimeProvider.System.GetUtcNow(), ct);
            output.WriteLine($"{file}: estimate: {e.Qualified} qualified, {e.Reachable} reachable, {e.CostUnits} cost units (campaign estimate -f {file} for the breakdown)");
        }
        catch (Exception ex) when (CliErrors.IsExpected(ex) || ex is Analytics.Segments.SegmentException)
        {
            output.WriteLine($"{file}: estimate: not available ({CliErrors.OneLine(ex)})");
        }
    }

    public static string EstimateTable(Pipeline.Estimates.ReachEstimate e)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine($"estimate for {e.CampaignId}");
        sb.AppendLine($"  {"qualified",-22} {e.Qualified,10}");
        foreach (var step in e.Funnel) sb.AppendLine($"  {step.Step,-22} {-step.Removed,10} {step.Left,10}");
        sb.AppendLine($"  {"reachable",-22} {e.Reachable,10}");
        sb.AppendLine("by country:   " + string.Join(", ", e.ByCountry.OrderByDescending(k => k.Value).ThenBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key} {k.Value}")));
        sb.AppendLine("by time zone: " + string.Join(", ", e.ByTimezone.OrderByDescending(k => k.Value).ThenBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key} {k.Value}")));
        sb.AppendLine($"cost:         {e.SegmentsPerMessage} segment(s) a message × {e.Reachable} = {e.CostUnits} units");
        if (e.TimeToSend is { } time) sb.AppendLine($"time to send: {Pipeline.Estimates.ReachEstimate.Describe(time)} at {e.RatePerSecond}/s, DND hours waited out");
        if (e.TriggersPerDay is { } perDay) sb.AppendLine($"live:         {perDay:0.#} trigger events a day over the last 7 days, about {e.ExpectedSendsPerDay:0.#} sends a day");
        if (e.BestTime is { } best)
        {
            sb.AppendLine($"best time:    {best.Personal} users at an hour of their own, {best.Others} at {best.Fallback} (the audience's)");
            sb.AppendLine("planned hours: " + string.Join(", ", best.Hours.Select(h => $"{h.Key} {h.Value}")));
        }
        foreach (var warning in e.Warnings) sb.AppendLine("warning: " + warning);
        return sb.ToString();
    }

    /// <summary>The text rendered for a sample user (each variable as [name]) with its encoding and segments.</summary>
    private static string Preview(CampaignSpec spec)
    {
        var (text, info, missing) = SampleMessage.Of(spec);
        if (text is null) return $"cannot render for a sample user: missing {missing}";
        return $"\"{text}\" ({info!.Encoding}, {text.EnumerateRunes().Count()} characters, {info.Segments} segment{(info.Segments == 1 ? "" : "s")})";
    }

    private static async Task WarnUnknownVariablesAsync(CliContext context, List<(string File, string Text)> texts, TextWriter output, CancellationToken ct)
    {
        await using var reader = AnalyticsReader.Open(context);
        if (reader is null) return;
        var known = (await reader.KnownPropertiesAsync(ct)).Select(k => (k.Kind, k.Event, k.Name)).ToList();
        foreach (var (file, text) in texts)
        {
            var spec = CampaignSpecParser.Parse(text).Spec!;
            foreach (var warning in MessageTemplate.ParseValid(spec.What.Text).UnknownVariables(spec.Who.Trigger?.Event, known))
                output.WriteLine($"warning: {file}: what.text: {warning}");
        }
    }

    private static Command Test(TextWriter output)
    {
        var file = new Option<string>("--file", "-f") { Description = "Campaign spec file", Required = true };
        var to = new Option<string>("--to") { Description = "Recipient, E.164 (+14155550100)", Required = true };
        var user = new Option<string?>("--user") { Description = "Render with this user's stored profile" };
        var set = new Option<string[]>("--set")
        {
            Description = "A value for a template variable, e.g. --set event.product=Shoes --set profile.first_name=Asha (repeatable)",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("test",
            "Render the campaign's text and send one test SMS through its provider. Variables take the --user profile, then --set values, " +
            "then the template's defaults; a variable still without a value stops the send (nobody gets a placeholder)")
        {
            file, to, user, set,
        };
        command.SetAction(async (parse, ct) =>
        {
            var context = CliContext.From(parse);
            var path = parse.GetValue(file)!;
            var text = CliContext.ReadFile(path);
            CliContext.Validate(path, text);
            var spec = CampaignSpecParser.Parse(text).Spec!;
            var recipient = parse.GetValue(to)!;
            if (Phones.Problem(recipient) is { } problem) throw new CliException($"--to {recipient}: {problem}");
            var phone = Phones.Parse(recipient)!;

            Profile? profile = null;
            if (parse.GetValue(user) is { } userId)
            {
                await using var reader = AnalyticsReader.Open(context) ?? throw new CliException($"--user {userId}: no analytics to read the profile from");
                profile = await reader.ProfileAsync(userId, ct) ?? throw new CliException($"--user {userId}: no profile stored for this user");
            }
            var template = MessageTemplate.ParseValid(spec.What.Text);
            var zone = Phones.UserTimeZone(profile?.Timezone, phone, spec.When?.Timezone);
            var values = TestValues(template, profile, parse.GetValue(set) ?? [], spec);
            var rendered = template.Render(values, zone, TimeProvider.System.GetUtcNow());
            if (!rendered.Ok)
            {
                output.WriteLine($"preview:    {Preview(spec)}");
                throw new CliException($"not sent: {rendered.Missing} has no value and no default; give one with --set {rendered.Missing}=... or --user");
            }
            var body = spec.What.SmartEncoding == true ? SmsEncoding.SmartEncode(rendered.Text!) : rendered.Text!;
            var info = SmsEncoding.Analyze(body);
            output.WriteLine($"to:         {Phones.E164(phone)}");
            output.WriteLine($"text:       {body}");
            output.WriteLine($"encoding:   {info.Encoding}");
            output.WriteLine($"characters: {body.EnumerateRunes().Count()}");
            output.WriteLine($"segments:   {info.Segments}");
            if (spec.What.MaxSegments is { } max && info.Segments > max)
                throw new CliException($"too_many_segments: {info.Segments} segments, max_segments is {max}; not sent");

            var request = new SmsRequest($"test-{Guid.NewGuid():N}", spec.Id, 0, profile?.UserId ?? "test", TimeProvider.System.GetUtcNow(),
                new RequestContext(null, null, Props.Empty, recipient, profile?.Timezone, true, profile?.Props ?? Props.Empty));
            var provider = ProviderFactory.Create(context.Options, spec.What.Provider, TimeProvider.System);
            using (provider as IDisposable)
            {
                var outcome = await provider.SendAsync(new OutboundSms(request,
                    Phones.E164(phone), spec.What.From, body, info), ct);
                switch (outcome)
                {
                    case Accepted a:
                        output.WriteLine($"provider:   {provider.Name} accepted, message id {a.MessageId}");
                        return 0;
                    case Refused r:
                        throw new CliException($"{provider.Name} refused: {r.Reason}");
                    default:
                        throw new CliException($"{provider.Name}: unexpected answer {outcome}");
                }
            }
        });
        return command;
    }

    /// <summary>The stored profile, then --set values (scope.name=value; a bare name when one variable has it); never placeholders.</summary>
    private static TemplateValues TestValues(MessageTemplate template, Profile? profile, string[] sets, CampaignSpec spec)
    {
        var scopes = new Dictionary<string, Dictionary<string, object?>>
        {
            ["profile"] = new(profile?.Props ?? Props.Empty),
            ["event"] = [],
        };
        foreach (var item in sets)
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new CliException($"--set {item}: expected name=value, e.g. event.product=Shoes");
            var (name, text) = (item[..eq].Trim(), item[(eq + 1)..]);
            var dot = name.IndexOf('.', StringComparison.Ordinal);
            string scope, prop;
            if (dot > 0) (scope, prop) = (name[..dot], name[(dot + 1)..]);
            else
            {
                var matches = template.Variables.Where(v => v.Name == name && v.Scope != "campaign").ToList();
                if (matches.Count != 1)
                    throw new CliException($"--set {item}: say profile.{name} or event.{name}" + (matches.Count == 0 ? $" (the text uses no variable named {name})" : ""));
                (scope, prop) = (matches[0].Scope, name);
            }
            if (!scopes.TryGetValue(scope, out var bag)) throw new CliException($"--set {item}: the scope must be profile or event");
            bag[prop] = Typed(text);
        }
        return new TemplateValues(scopes["profile"], scopes["event"], new Dictionary<string, object?> { ["id"] = spec.Id, ["name"] = spec.Name });
    }

    /// <summary>A --set value as the event or profile would carry it: a number when it reads as one, else text.</summary>
    private static object Typed(string text) =>
        long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var l) ? l
        : double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) && text.Contains('.', StringComparison.Ordinal) ? d
        : text is "true" or "false" ? text == "true"
        : text;

    private sealed record CampaignSummary(string Id, int Version, string Status, string? Type, string? Name, DateTimeOffset UpdatedAt);

    private static CampaignSummary Summary(CampaignEntry e) =>
        new(e.Record.Id, e.Record.Version, Lower(e.Record.Status), e.Spec?.Type.ToString().ToLowerInvariant(), e.Spec?.Name, e.Record.UpdatedAt);

    private static string Lower(CampaignStatus s) => s.ToString().ToLowerInvariant();
}
