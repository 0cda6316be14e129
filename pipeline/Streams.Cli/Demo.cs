using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;
using Streams.Cli.Commands;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Pipeline;
using Streams.Pipeline.Estimates;
using Streams.Kafka;

namespace Streams.Cli;

/// <summary>
/// `streams demo`: the embedded stack, two live campaigns, synthetic users whose events flow for a
/// while, progress every couple of seconds, and the per-campaign funnel at the end. The data is
/// generated from a fixed seed, so two runs produce the same users and events.
/// </summary>
public sealed class Demo(StreamsOptions options, TextWriter output, int users, TimeSpan duration, TimeProvider time)
{
    /// <summary>Users who added something worth 500 or more to their cart today and never paid.</summary>
    public const string CartersSegment = """
        id: big-carters
        name: big carts today, never charged
        segment:
          all:
            - did: {event: Added To Cart, within: 1d, where: [{prop: value, op: gte, value: 500}]}
            - not: {did: {event: Charged}}
        """;

    public const string CartSpec = """
        id: abandoned-cart
        name: Abandoned cart nudge
        type: live
        who:
          trigger:
            event: Added To Cart
            where: [{prop: value, op: gte, value: 500}]
        what:
          provider: sandbox
          from: "+14155550100"
          text: "Hi {{ profile.first_name | default: 'there' }}, your {{ event.product }} is waiting. Complete your order today!"
        goal:
          conversion: {event: Charged, within: 1h, value: value}
          control_group: 20
        """;

    public const string WelcomeSpec = """
        id: welcome
        name: Welcome new users
        type: live
        who:
          trigger:
            event: Signed Up
        what:
          provider: sandbox
          from: "+14155550100"
          text: "Welcome to Acme, {{ profile.first_name }}! Reply STOP to opt out."
        """;

    /// <summary>A one-time scheduled run, now, to the saved segment above.</summary>
    public const string WinBackSpec = """
        id: win-back
        name: Win back big carts
        type: scheduled
        who: {segment: {ref: big-carters}, reach: {safety_limit: 5000}}
        when: {at: now}
        what:
          provider: sandbox
          from: "+14155550100"
          text: "{{ profile.first_name | default: 'Hi' }}, your cart is saved: 10% off today with code BACK10."
        """;

    private static readonly string[] FirstNames = ["Asha", "Ravi", "Meera", "Arjun", "Priya", "Kabir", "Anaya", "Vihaan", "Diya", "Rohan"];
    private static readonly string[] Cities = ["Mumbai", "Delhi", "Pune", "Bengaluru", "Chennai"];
    private static readonly string[] Products = ["Shoes", "Headphones", "Backpack", "Watch", "Jacket", "Sunglasses"];

    public async Task<int> RunAsync(CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        options.StateDir = Path.Combine(options.StateDir, "demo");
        if (Directory.Exists(options.StateDir)) Directory.Delete(options.StateDir, recursive: true);
        using var loggers = CliContext.Loggers();
        output.WriteLine($"demo: starting the embedded stack in {options.StateDir} (mock Kafka, in-process counters, DuckDB, sandbox provider)");
        await using var host = await PipelineHost.StartAsync(options, loggers, TimeProvider.System, new PipelineHostOptions(), ct);

        var client = new CampaignClient(host.Bootstrap, host.Topics, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        foreach (var spec in new[] { CartSpec, WelcomeSpec })
        {
            var applied = await client.ApplyAsync(spec);
            await host.WaitForCampaignAsync(applied.Record.Id, applied.Record.Version, TimeSpan.FromSeconds(60));
            output.WriteLine($"demo: applied campaign {applied.Record.Id} v{applied.Record.Version}");
        }

        var random = new Random(42);
        var start = time.GetUtcNow();
        using var producer = CliContext.Producer(host.Bootstrap);
        var ids = Enumerable.Range(1, users).Select(i => $"user-{i:D5}").ToList();
        var reachable = new HashSet<string>();
        foreach (var id in ids)
        {
            var profile = Profile(id, random, start);
            if (profile is { Phone: not null, SmsOptIn: true }) reachable.Add(id);
            Produce(producer, host.Topics.Profiles, id, Codecs.ProfileUpdate.Encode(profile));
        }
        producer.Flush(ct);
        foreach (var id in ids) await host.WaitForProfileAsync(id, TimeSpan.FromSeconds(60));
        output.WriteLine($"demo: {users} profiles loaded; events flow for {duration.TotalSeconds:0}s");

        var events = Events(ids, reachable, random, start, duration);
        var flow = Stopwatch.StartNew();
        var next = 0;
        var lastReport = TimeSpan.Zero;
        while (next < events.Count || flow.Elapsed < duration)
        {
            while (next < events.Count && events[next].After <= flow.Elapsed)
            {
                var (_, ev) = events[next++];
                Produce(producer, host.Topics.Events, ev.UserId, Codecs.UserEvent.Encode(ev with { Ts = start + flow.Elapsed }));
            }
            if (flow.Elapsed - lastReport >= TimeSpan.FromSeconds(2))
            {
                lastReport = flow.Elapsed;
                output.WriteLine($"demo: {flow.Elapsed.TotalSeconds,3:0}s  events {next,5}/{events.Count}  requests {host.Dispatcher!.Handled,5}  {await Progress(host)}");
            }
            await Task.Delay(50, ct);
        }
        producer.Flush(ct);

        // Let every request reach its terminal result (the sandbox reports delivery a second after sending).
        output.WriteLine("demo: events done; waiting for the last results");
        var settle = Stopwatch.StartNew();
        IReadOnlyList<Analytics.FunnelRow> funnel = [];
        var lastHandled = -1L;
        while (settle.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(500, ct);
            funnel = await host.Analytics!.FunnelAsync(null, ct);
            var handled = host.Dispatcher!.Handled;
            if (funnel.Count == 2 && funnel.All(f => f.Pending == 0) && handled == lastHandled && handled == funnel.Sum(f => f.Qualified)) break;
            lastHandled = handled;
        }
        // Conversions come through the attribution topology a moment after the last goal events.
        var report = await ReportAsync(host, null, ct);
        for (var quiet = 0; quiet < 3 && settle.Elapsed < TimeSpan.FromSeconds(60);)
        {
            await Task.Delay(700, ct);
            var later = await ReportAsync(host, null, ct);
            quiet = later.Campaigns.Sum(c => c.Converted) == report.Campaigns.Sum(c => c.Converted) ? quiet + 1 : 0;
            report = later;
        }
        output.WriteLine();
        output.Write(Analytics.Reports.ReportFormats.Table(report));
        output.WriteLine();
        var outbox = File.Exists(host.OutboxPath) ? File.ReadLines(host.OutboxPath).Count() : 0;
        output.WriteLine($"demo: {outbox} messages in {Path.GetFullPath(host.OutboxPath)}; took {clock.Elapsed.TotalSeconds:0.0}s");
        if (funnel.Count < 2 || funnel.Any(f => f.Sent == 0)) throw new CliException("the demo ended without sends for both campaigns");

        // Past behaviour over the analytics store, as a scheduled campaign would see it: a segment and an estimate.
        var now = time.GetUtcNow();
        var carters = CampaignSpecParser.ParseSegment(CartersSegment).Segment!;
        output.WriteLine($"demo: segment '{carters.Name}': {await host.Analytics!.SegmentCountAsync(carters.Segment, now, null, ct)} users");
        var estimate = await Estimator.RunAsync(host.Analytics, CampaignSpecParser.ParseValid(CartSpec), _ => null, host.Counters, options, now, ct);
        output.Write(CampaignCommands.EstimateTable(estimate));

        await ScheduledRunAsync(host, client, ct);

        report = await ReportAsync(host, null, ct);
        var html = Path.Combine(options.StateDir, "report.html");
        await File.WriteAllTextAsync(html, Analytics.Reports.ReportFormats.Html(report), ct);
        var cart = report.Campaigns.Single(c => c.CampaignId == "abandoned-cart");
        output.WriteLine($"demo: abandoned-cart: {cart.Converted} conversions of {cart.Lift.Treatment.Exposed} sent, {cart.Lift.Control.Converted} of {cart.Lift.Control.Exposed} held out; {Analytics.Reports.ReportFormats.LiftLine(cart.Lift)}");
        output.WriteLine($"demo: report written to {Path.GetFullPath(html)} (streams report --format html; streams why --campaign abandoned-cart --user ID)");
        if (cart.Converted == 0) throw new CliException("the demo ended without conversions");
        return 0;
    }

    private Task<Analytics.Reports.Report> ReportAsync(PipelineHost host, string? campaign, CancellationToken ct) =>
        Analytics.Reports.Reporting.LoadAsync(host.Analytics!, new Analytics.Reports.ReportFilter(campaign), id => host.Campaigns.Get(id)?.Spec, time.GetUtcNow(), ct);

    /// <summary>The segment saved, a scheduled campaign applied with at: now; the scheduler plans the run and the dispatcher sends it.</summary>
    private async Task ScheduledRunAsync(PipelineHost host, CampaignClient client, CancellationToken ct)
    {
        var logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        await new SegmentClient(host.Bootstrap, host.Topics, TimeProvider.System, logger).ApplyAsync(CartersSegment);
        var applied = await client.ApplyAsync(WinBackSpec);
        output.WriteLine($"demo: applied scheduled campaign {applied.Record.Id} v{applied.Record.Version} (at: now, to segment big-carters)");
        var runs = new RunClient(host.Bootstrap, host.Topics, TimeProvider.System, logger);
        var waited = Stopwatch.StartNew();
        Core.Schedules.RunRecord? run = null;
        Analytics.FunnelRow? row = null;
        while (waited.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(500, ct);
            run = runs.List(applied.Record.Id).SingleOrDefault();
            if (run?.Status is not (Core.Schedules.RunStatus.Done or Core.Schedules.RunStatus.Held or Core.Schedules.RunStatus.Skipped)) continue;
            row = (await host.Analytics!.FunnelAsync(applied.Record.Id, ct)).SingleOrDefault();
            if (run.Status != Core.Schedules.RunStatus.Done || (row is { Pending: 0 } && row.Qualified == run.Planned)) break;
        }
        if (run is null) throw new CliException("the scheduled demo campaign was not planned within 60s");
        var counts = await host.Analytics!.RunCountsAsync(applied.Record.Id, ct);
        var c = counts.GetValueOrDefault(RequestIds.RunKey(run.RunId)) ?? new Analytics.RunCounts(0, 0);
        output.WriteLine($"demo: run {run.RunId} {run.Status}: {run.Qualified} qualified, {run.Planned} planned, {c.Sent} sent, {c.Delivered} delivered (streams campaign runs {applied.Record.Id})");
        if (row is not null) output.Write(Analytics.Reports.ReportFormats.Table(await ReportAsync(host, applied.Record.Id, ct)));
    }

    private static async Task<string> Progress(PipelineHost host)
    {
        var parts = new List<string>();
        foreach (var id in new[] { "abandoned-cart", "welcome" })
        {
            var c = await host.Counters.CampaignCountsAsync(id);
            parts.Add($"{id}: sent {c.GetValueOrDefault("sent")} delivered {c.GetValueOrDefault("delivered")} suppressed {c.Where(k => k.Key.StartsWith("suppressed:", StringComparison.Ordinal)).Sum(k => k.Value)}");
        }
        return string.Join("  |  ", parts);
    }

    private static void Produce(IProducer<string, byte[]> producer, string topic, string key, byte[] value)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, new Message<string, byte[]> { Key = key, Value = value });
                return;
            }
            catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(100));
            }
        }
    }

    private static ProfileUpdate Profile(string id, Random random, DateTimeOffset now)
    {
        // About 4% without a phone, 5% opted out, 10% without a first name: the funnel shows each suppression.
        var roll = random.NextDouble();
        var phone = roll < 0.04 ? null : "+91987" + random.Next(0, 10_000_000).ToString("D7", CultureInfo.InvariantCulture);
        var props = new Dictionary<string, object?> { ["city"] = Cities[random.Next(Cities.Length)] };
        if (random.NextDouble() >= 0.10) props["first_name"] = FirstNames[random.Next(FirstNames.Length)];
        return new ProfileUpdate(id, now.AddDays(-30), phone, "Asia/Kolkata", random.NextDouble() >= 0.05, props);
    }

    /// <summary>Events spread over the run: a quarter of users sign up, most browse, many add to cart (some above 500), some pay.</summary>
    /// <remarks>
    /// A big cart is sometimes paid for a few seconds later: more often by users the nudge reached than by the cart
    /// campaign's control group (the effect the report's lift measures), as often as the control group by the rest.
    /// </remarks>
    private static List<(TimeSpan After, UserEvent Event)> Events(List<string> ids, IReadOnlySet<string> reachable, Random random, DateTimeOffset start, TimeSpan duration)
    {
        var list = new List<(TimeSpan, UserEvent)>();
        var window = Math.Max(1, duration.TotalMilliseconds - 1000);
        TimeSpan At() => TimeSpan.FromMilliseconds(random.NextDouble() * window);
        UserEvent E(string id, string name, Dictionary<string, object?>? props = null) => new(id, name, start, props ?? []);
        foreach (var id in ids)
        {
            if (random.NextDouble() < 0.25) list.Add((At(), E(id, "Signed Up")));
            list.Add((At(), E(id, "App Launched")));
            if (random.NextDouble() < 0.6)
            {
                var value = Math.Round(100 + random.NextDouble() * 1400, 0);
                var added = At();
                list.Add((added, E(id, "Added To Cart", new() { ["product"] = Products[random.Next(Products.Length)], ["value"] = value })));
                if (random.NextDouble() < 0.3) list.Add((At(), E(id, "Charged", new() { ["value"] = value })));
                else if (value >= 500)
                {
                    var nudged = reachable.Contains(id) && !Dispatcher.SendDecision.InControlGroup("abandoned-cart", id, 20);
                    if (random.NextDouble() < (nudged ? 0.35 : 0.12)) list.Add((added + TimeSpan.FromSeconds(3 + random.NextDouble() * 5), E(id, "Charged", new() { ["value"] = value })));
                }
            }
        }
        return [.. list.OrderBy(e => e.Item1)];
    }
}
