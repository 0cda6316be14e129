using Streams.Analytics;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Core.Templates;
using Streams.Dispatcher;

namespace Streams.Pipeline.Estimates;

/// <summary>One step of the reach funnel: how many users it takes out.</summary>
public sealed record FunnelStep(string Step, long Removed, long Left);

/// <summary>
/// How many users a campaign would reach, and what sending to them costs and takes: the qualified users, then those
/// without a valid phone, opted out, held in the control group, outside the sample (<c>percent</c>) and over the
/// limit (<c>run_limit</c>, else <c>limit</c>), leaving the reachable ones; by country and by time zone; the message's
/// segments × reachable (cost units) and the time to send them at the provider's rate outside DND hours.
/// </summary>
public sealed record ReachEstimate(
    string CampaignId,
    long Qualified,
    IReadOnlyList<FunnelStep> Funnel,
    long Reachable,
    IReadOnlyDictionary<string, long> ByCountry,
    IReadOnlyDictionary<string, long> ByTimezone,
    int SegmentsPerMessage,
    long CostUnits,
    double? RatePerSecond,
    TimeSpan? TimeToSend,
    IReadOnlyList<string> Warnings)
{
    /// <summary>For a live campaign: trigger events per day over the last 7 days, and the sends per day they would give.</summary>
    public double? TriggersPerDay { get; init; }

    public double? ExpectedSendsPerDay { get; init; }

    /// <summary>For a best-time campaign: how the audience's hours would be planned now.</summary>
    public BestTimePlan? BestTime { get; init; }

    /// <summary>
    /// The funnel over the segment's members (with their latest phone, time zone and opt-in). A user is removed at the
    /// first step that stops them; the control group and the sample are the dispatcher's stable hashes of campaign and
    /// user, so the estimate names the same users the sends would.
    /// </summary>
    /// <param name="optedOut">Users or phones opted out in the counter store (STOP replies), when it can be asked.</param>
    /// <param name="globalControl">control.global_percent: its users are held out of every campaign not marked transactional.</param>
    public static ReachEstimate Of(CampaignSpec spec, IReadOnlyList<Contact> members, Func<Contact, bool>? optedOut, double? ratePerSecond, DndWindow? defaultDnd,
        DateTimeOffset now, double globalControl = 0)
    {
        var left = members.ToList();
        var steps = new List<FunnelStep>();
        void Step(string name, Func<Contact, bool> stays)
        {
            var before = left.Count;
            left = [.. left.Where(stays)];
            steps.Add(new FunnelStep(name, before - left.Count, left.Count));
        }
        Step(Reasons.InvalidPhone, c => Phones.Parse(c.Phone) is not null);
        Step(Reasons.OptedOut, c => c.OptIn != false && optedOut?.Invoke(c) != true);
        if (globalControl > 0 && spec.Goal?.Transactional != true) Step(Reasons.GlobalControl, c => !SendDecision.InGlobalControl(c.UserId, globalControl));
        if (spec.Goal?.ControlGroup is { } control) Step(Reasons.ControlGroup, c => !SendDecision.InControlGroup(spec.Id, c.UserId, control));
        if (spec.Who.Reach?.Percent is { } percent) Step(Reasons.NotSampled, c => SendDecision.Sampled(spec.Id, c.UserId, percent));
        if ((spec.Who.Reach?.RunLimit ?? spec.Who.Reach?.Limit) is { } limit && left.Count > limit)
        {
            // A random N of the qualified: the same stable order the sample uses.
            var kept = left.OrderBy(c => Sampling.LimitRank(spec.Id, c.UserId)).ThenBy(c => c.UserId, StringComparer.Ordinal).Take((int)limit).ToHashSet();
            Step(spec.Who.Reach?.RunLimit is not null ? Reasons.RunLimitReached : Reasons.LimitReached, kept.Contains);
        }
        else if (spec.Who.Reach?.RunLimit is not null || spec.Who.Reach?.Limit is not null)
        {
            Step(spec.Who.Reach?.RunLimit is not null ? Reasons.RunLimitReached : Reasons.LimitReached, _ => true);
        }

        var byCountry = left.GroupBy(c => Phones.Country(Phones.Parse(c.Phone)!.CountryCode)).ToDictionary(g => g.Key, g => (long)g.Count());
        var byZone = left.GroupBy(c => Phones.ZoneName(Phones.UserTimeZone(c.Timezone.Length > 0 ? c.Timezone : null, Phones.Parse(c.Phone), spec.When?.Timezone)))
            .ToDictionary(g => g.Key, g => (long)g.Count());
        var segments = SegmentsOf(spec);
        var warnings = new List<string>();
        TimeSpan? time = null;
        if (ratePerSecond is { } rate && rate > 0)
        {
            var sending = TimeSpan.FromSeconds(left.Count / rate);
            var dnd = spec.When?.Dnd is { } d ? new DndWindow(d.From, d.To, DndMode.Delay) : defaultDnd;
            var open = dnd is null ? 1.0 : 1 - Quiet(dnd).TotalHours / 24;
            // Sends wait out each user's quiet hours: over a day only the open share of it sends.
            time = open >= 1 || sending <= TimeSpan.Zero ? sending : TimeSpan.FromSeconds(sending.TotalSeconds / open);
            if (dnd is not null && sending > TimeSpan.FromHours(24) - Quiet(dnd))
                warnings.Add($"sending takes {Describe(sending)} at {rate}/s: longer than the {Describe(TimeSpan.FromHours(24) - Quiet(dnd))} outside DND ({dnd.From:HH\\:mm}–{dnd.To:HH\\:mm}), so it runs into the next day");
            if (spec.When?.End is { } end && spec.When.At.Count == 0 && spec.When.Every is null && now + time > end)
                warnings.Add($"sending would run past when.end ({end:yyyy-MM-dd HH:mm}Z)");
        }
        else warnings.Add($"provider '{spec.What.Provider}' has no rate: no time to send");
        if (segments == 0) warnings.Add("the text cannot be rendered for a sample user: no cost units");
        return new ReachEstimate(spec.Id, members.Count, steps, left.Count, byCountry, byZone, segments, segments * (long)left.Count, ratePerSecond, time, warnings);
    }

    private static TimeSpan Quiet(DndWindow dnd)
    {
        var quiet = dnd.To.ToTimeSpan() - dnd.From.ToTimeSpan();
        return quiet < TimeSpan.Zero ? quiet + TimeSpan.FromHours(24) : quiet;
    }

    public static string Describe(TimeSpan t) =>
        t.TotalDays >= 1 ? $"{t.TotalDays:0.#} d" : t.TotalHours >= 1 ? $"{t.TotalHours:0.#} h" : t.TotalMinutes >= 1 ? $"{t.TotalMinutes:0.#} min" : $"{t.TotalSeconds:0} s";

    /// <summary>Segments of the text rendered for a sample user (0 when it cannot render).</summary>
    public static int SegmentsOf(CampaignSpec spec) => SampleMessage.Of(spec).Info?.Segments ?? 0;
}

/// <param name="Personal">Users with enough history for an hour of their own.</param>
/// <param name="Fallback">The hour the others get (the audience's most active in the window, else its start), HH:mm.</param>
/// <param name="Hours">Users per planned local hour (HH:mm).</param>
public sealed record BestTimePlan(long Personal, long Others, string Fallback, IReadOnlyDictionary<string, long> Hours);
