using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Streams.Core.Campaigns;
using Streams.Core.Segments;

namespace Streams.Core.Tests;

/// <summary>
/// The live segment evaluator (incremental per-day summary, pruned to the horizon, stored and read back
/// after every event) agrees with a straightforward evaluation over the raw list of the user's earlier events.
/// </summary>
public sealed class LiveSegmentPropertyTests
{
    private static readonly string[] Names = ["App Launched", "Charged", "Added To Cart"];
    private static readonly DateTimeOffset Start = new(2026, 10, 1, 7, 30, 0, TimeSpan.Zero);

    private sealed record Case(int Horizon, List<(string Name, DateTimeOffset Ts)> Events, SegmentNode Segment, string City)
    {
        public override string ToString() => $"horizon {Horizon}d, city {City}, {Segment}, events [{string.Join(", ", Events.Select(e => $"{e.Name}@{e.Ts:O}"))}]";
    }

    private static Gen<CountRange?> Counts() => Gen.OneOf(
        Gen.Constant<CountRange?>(null),
        Gen.Choose(0, 4).Select(n => (CountRange?)new CountRange(null, n, null, null, null)),
        Gen.Choose(0, 4).Select(n => (CountRange?)new CountRange(n, null, null, null, null)),
        Gen.Choose(0, 4).Select(n => (CountRange?)new CountRange(null, null, n, null, null)),
        Gen.Choose(0, 3).SelectMany(lo => Gen.Choose(lo + 1, 6).Select(hi => (CountRange?)new CountRange(null, null, null, lo, hi))));

    private static Gen<SegmentNode> Leaf(int horizon) => Gen.OneOf(
        Gen.Elements("Mumbai", "Pune").Select(c => (SegmentNode)new ProfileCondition(new Condition("city", ConditionOp.Eq, c))),
        Gen.Elements(Names).SelectMany(name => Counts().SelectMany(count =>
            Gen.OneOf(Gen.Constant<int?>(null), Gen.Choose(1, horizon).Select(d => (int?)d))
                .Select(days => (SegmentNode)new DidCondition(name, count, days is { } d ? TimeSpan.FromDays(d) : null, [])))));

    private static Gen<SegmentNode> Tree(int depth, int horizon) => depth == 0
        ? Leaf(horizon)
        : Gen.OneOf(
            Leaf(horizon),
            Tree(depth - 1, horizon).Select(n => (SegmentNode)new NotOf(n)),
            Gen.Choose(1, 3).SelectMany(k => Gen.ArrayOf(Tree(depth - 1, horizon), k)).Select(items => (SegmentNode)new AllOf(items)),
            Gen.Choose(1, 3).SelectMany(k => Gen.ArrayOf(Tree(depth - 1, horizon), k)).Select(items => (SegmentNode)new AnyOf(items)));

    private static Gen<Case> Cases() =>
        from horizon in Gen.Elements(2, 5, 90)
        from count in Gen.Choose(1, 60)
        // Gaps from none (ties) to a few days, so histories run past short horizons and windows end mid-day.
        from gaps in Gen.ArrayOf(Gen.Frequency((3, Gen.Choose(0, 180)), (2, Gen.Choose(0, 4 * 1440)), (1, Gen.Choose(0, 20 * 1440))), count)
        from names in Gen.ArrayOf(Gen.Elements(Names), count)
        from segment in Tree(3, horizon)
        from city in Gen.Elements("Mumbai", "Pune")
        select new Case(horizon, Events(gaps, names), segment, city);

    private static List<(string, DateTimeOffset)> Events(int[] gapMinutes, string[] names)
    {
        var t = Start;
        var list = new List<(string, DateTimeOffset)>();
        for (var i = 0; i < gapMinutes.Length; i++)
        {
            t = t.AddMinutes(gapMinutes[i]);
            list.Add((names[i], t));
        }
        return list;
    }

    [Property(MaxTest = 500)]
    public Property Live_segment_evaluation_agrees_with_a_scan_of_the_raw_events() =>
        Prop.ForAll(Cases().ToArbitrary(), c =>
        {
            var profile = new Dictionary<string, object?> { ["city"] = c.City };
            var stored = new BehaviourSummary().Encode();
            for (var i = 0; i < c.Events.Count; i++)
            {
                var (name, now) = c.Events[i];
                var summary = BehaviourSummary.Decode(stored);
                var live = SegmentEvaluator.Matches(c.Segment, profile, summary, now, c.Horizon);
                var reference = Reference(c.Segment, c.City, c.Events.Take(i).ToList(), now, c.Horizon);
                if (live != reference) return false.Label($"event {i} at {now:O}: live {live}, raw {reference}");
                summary.Record(name, now, c.Horizon);
                stored = summary.Encode();
            }
            return true.Label("agrees");
        });

    private static int UtcDay(DateTimeOffset t) => (t.UtcDateTime.Date - DateTime.UnixEpoch).Days;

    /// <summary>The documented meaning, evaluated directly: did = earlier events of that name on the window's UTC days.</summary>
    private static bool Reference(SegmentNode node, string city, List<(string Name, DateTimeOffset Ts)> earlier, DateTimeOffset now, int horizon)
    {
        switch (node)
        {
            case AllOf all: return all.Items.All(n => Reference(n, city, earlier, now, horizon));
            case AnyOf any: return any.Items.Any(n => Reference(n, city, earlier, now, horizon));
            case NotOf not: return !Reference(not.Item, city, earlier, now, horizon);
            case ProfileCondition p: return Equals(p.Condition.Value, city);
            case DidCondition { Within: null, Count: null } ever: return earlier.Any(e => e.Name == ever.Event);
            case DidCondition did:
                var first = did.Within is { } w ? UtcDay(now - w) : UtcDay(now) - horizon;
                var n = earlier.Count(e => e.Name == did.Event && UtcDay(e.Ts) >= first && UtcDay(e.Ts) <= UtcDay(now));
                var r = did.Count;
                if (r is null) return n >= 1;
                var ok = true;
                if (r.Eq.HasValue) ok &= n == r.Eq.Value;
                if (r.Gte.HasValue) ok &= n >= r.Gte.Value;
                if (r.Lte.HasValue) ok &= n <= r.Lte.Value;
                if (r.Gt.HasValue) ok &= n > r.Gt.Value;
                if (r.Lt.HasValue) ok &= n < r.Lt.Value;
                return ok;
            default: throw new InvalidOperationException(node.ToString());
        }
    }

    [Fact]
    public void Within_seven_days_counts_from_the_utc_day_seven_days_back_through_today()
    {
        var summary = new BehaviourSummary();
        var now = new DateTimeOffset(2026, 12, 8, 1, 0, 0, TimeSpan.Zero);
        summary.Record("Charged", new DateTimeOffset(2026, 11, 30, 23, 59, 0, TimeSpan.Zero));
        summary.Record("Charged", new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
        var did = new DidCondition("Charged", new CountRange(1, null, null, null, null), TimeSpan.FromDays(7), []);
        Assert.True(SegmentEvaluator.Matches(did, Props.Empty, summary, now));
    }

    [Fact]
    public void Days_older_than_the_horizon_are_dropped_but_the_event_is_still_known()
    {
        var summary = new BehaviourSummary();
        summary.Record("Charged", Start, horizonDays: 3);
        summary.Record("App Launched", Start.AddDays(4), horizonDays: 3);
        var back = BehaviourSummary.Decode(summary.Encode());
        Assert.Empty(back.Events["Charged"].Days);
        Assert.Equal(Start, back.Events["Charged"].First);
        Assert.True(SegmentEvaluator.Matches(new DidCondition("Charged", null, null, []), Props.Empty, back, Start.AddDays(4)));
        Assert.False(SegmentEvaluator.Matches(new DidCondition("Charged", new CountRange(null, 1, null, null, null), null, []), Props.Empty, back, Start.AddDays(4), 3));
    }
}
