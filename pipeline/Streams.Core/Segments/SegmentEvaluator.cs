using Streams.Core.Campaigns;

namespace Streams.Core.Segments;

/// <summary>
/// A live campaign's <c>segment</c> at trigger time: profile conditions against the merged profile,
/// <c>did</c> against the behaviour summary as it was before the triggering event (past behaviour), <c>ref</c>
/// against the memberships the segment job last published (any condition, over history; at most two refresh
/// periods old).
/// <c>within: Nd</c> covers the UTC days from the day of (now − N) to today, both included;
/// without <c>within</c>, a count covers the horizon and a bare <c>did</c> means "ever".
/// A <c>did</c> without <c>count</c> means at least once.
/// </summary>
public static class SegmentEvaluator
{
    /// <param name="memberships">The saved segments the user is in (the segment job's last evaluation), for <c>ref</c>.</param>
    public static bool Matches(SegmentNode? segment, IReadOnlyDictionary<string, object?> profileProps, BehaviourSummary behaviour,
        DateTimeOffset now, int horizonDays = BehaviourSummary.DefaultHorizonDays, IReadOnlySet<string>? memberships = null) => segment switch
    {
        null => true,
        AllOf all => all.Items.All(i => Matches(i, profileProps, behaviour, now, horizonDays, memberships)),
        AnyOf any => any.Items.Any(i => Matches(i, profileProps, behaviour, now, horizonDays, memberships)),
        NotOf not => !Matches(not.Item, profileProps, behaviour, now, horizonDays, memberships),
        SegmentRef r => memberships?.Contains(r.Ref) == true,
        ProfileCondition p => ConditionEvaluator.Matches(p.Condition, profileProps, now),
        DidCondition did => Did(did, behaviour, now, horizonDays),
        _ => throw new NotSupportedException($"segment {segment.GetType().Name} cannot be evaluated on the live path"),
    };

    private static bool Did(DidCondition did, BehaviourSummary behaviour, DateTimeOffset now, int horizonDays)
    {
        if ((did.FirstTime is not null || did.LastTime is not null)
            && (!behaviour.Events.TryGetValue(did.Event, out var seen) || !Window.Holds(did.FirstTime, seen.First, now) || !Window.Holds(did.LastTime, seen.Last, now)))
            return false;
        if (did.Within is null && did.Count is null) return behaviour.Ever(did.Event);
        var today = BehaviourSummary.DayOf(now);
        var from = did.Within is { } within ? BehaviourSummary.DayOf(now - within) : today - horizonDays;
        return InRange(behaviour.Count(did.Event, from, today), did.Count);
    }

    public static bool InRange(long n, CountRange? range) =>
        range is null
            ? n >= 1
            : (range.Eq is not { } eq || n == eq) && (range.Gte is not { } gte || n >= gte) && (range.Lte is not { } lte || n <= lte)
              && (range.Gt is not { } gt || n > gt) && (range.Lt is not { } lt || n < lt);

    /// <summary>Why a segment cannot run on the live path, with its path; empty when it can.</summary>
    public static IReadOnlyList<string> LiveProblems(SegmentNode? segment, int horizonDays = BehaviourSummary.DefaultHorizonDays)
    {
        var problems = new List<string>();
        Walk(segment, "who.segment");
        return problems;

        void Walk(SegmentNode? node, string path)
        {
            switch (node)
            {
                case AllOf all:
                    for (var i = 0; i < all.Items.Count; i++) Walk(all.Items[i], $"{path}.all[{i}]");
                    break;
                case AnyOf any:
                    for (var i = 0; i < any.Items.Count; i++) Walk(any.Items[i], $"{path}.any[{i}]");
                    break;
                case NotOf not:
                    Walk(not.Item, path + ".not");
                    break;
                case DidCondition did:
                    if (did.Where.Count > 0)
                        problems.Add($"{path}.did.where: the live path counts events per day, not their properties; drop where or use a scheduled campaign");
                    if (did.Within is { } w && (!Window.WholeDays(w) || w.TotalDays > horizonDays))
                        problems.Add($"{path}.did.within: the live path counts whole days up to {horizonDays}d; use 1d to {horizonDays}d");
                    break;
            }
        }
    }
}
