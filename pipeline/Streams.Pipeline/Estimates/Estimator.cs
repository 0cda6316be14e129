using Streams.Analytics;
using Streams.Analytics.Segments;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Counters;

namespace Streams.Pipeline.Estimates;

/// <summary>Runs a reach estimate over the analytics store (and the counter store's opt-outs when it can be asked).</summary>
public static class Estimator
{
    public static readonly TimeSpan TriggerWindow = TimeSpan.FromDays(7);

    public static async Task<ReachEstimate> RunAsync(IAnalyticsStore store, CampaignSpec spec, Func<string, SegmentNode?> resolve, ICounterStore? counters,
        StreamsOptions options, DateTimeOffset now, CancellationToken ct)
    {
        var members = await store.SegmentContactsAsync(spec.Who.Segment ?? SegmentSql.Everyone, now, resolve, ct);
        Func<Contact, bool>? optedOut = null;
        if (counters is not null)
        {
            var withPhone = members.Select(c => (c, Phones.Parse(c.Phone))).Where(x => x.Item2 is not null).ToList();
            var stopped = new HashSet<string>(StringComparer.Ordinal);
            foreach (var chunk in withPhone.Chunk(10_000))
            {
                var answers = await counters.OptedOutAsync([.. chunk.Select(x => (IReadOnlyList<string>)["user:" + x.c.UserId, "phone:" + Phones.E164(x.Item2!)])]);
                for (var i = 0; i < chunk.Length; i++)
                    if (answers[i]) stopped.Add(chunk[i].c.UserId);
            }
            optedOut = c => stopped.Contains(c.UserId);
        }
        var rate = options.Providers.TryGetValue(spec.What.Provider, out var provider) ? provider.Rate : null;
        var estimate = ReachEstimate.Of(spec, members, optedOut, rate, options.Dnd?.ToWindow(), now, options.Control.GlobalPercent);
        if (spec.Type == CampaignType.Live && spec.Who.Trigger is { } trigger)
        {
            // The members' own triggers: each is judged like the members are, so the share of them a send reaches (before
            // the lifetime limit, which caps a total, not a rate) sends, at most daily_limit a day.
            var events = await store.EventCountAsync(trigger.Event, trigger.Where, now - TriggerWindow, now, spec.Who.Segment, resolve, ct);
            var perDay = events / TriggerWindow.TotalDays;
            var beforeLimit = estimate.Funnel.LastOrDefault(f => f.Step is not (Reasons.LimitReached or Reasons.RunLimitReached))?.Left ?? members.Count;
            var share = members.Count == 0 ? 0 : beforeLimit / (double)members.Count;
            var sends = perDay * share;
            if (spec.Who.Reach?.DailyLimit is { } daily) sends = Math.Min(sends, daily);
            estimate = estimate with { TriggersPerDay = perDay, ExpectedSendsPerDay = Math.Round(sends, 1) };
        }
        if (spec.When?.BestTime is not null)
        {
            var best = await Jobs.Scheduling.BestTimes.ComputeAsync(store, spec, spec.Who.Segment ?? SegmentSql.Everyone, null, now, resolve, ct);
            var total = best.PlannedHours.Values.Sum();
            estimate = estimate with
            {
                BestTime = new BestTimePlan(best.Personal.Count, total - best.Personal.Count, Hour(best.Fallback.Hour),
                    best.PlannedHours.OrderBy(h => h.Key).ToDictionary(h => Hour(h.Key), h => h.Value)),
            };
        }
        return estimate;
    }

    private static string Hour(int hour) => $"{hour:D2}:00";
}
