using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Core.Segments;

namespace Streams.Backends.Tests;

/// <summary>
/// What a segment means, judged in memory over a user's raw history: the reference both compiled queries are held
/// to. A profile property is its value in the latest update that has it; a did counts the matching events in its
/// window (<see cref="Window"/>); first and last times are over all of the user's matching events. Members are
/// users with some history (a profile update or an event): a user the store never heard of is in no segment.
/// </summary>
public static class SegmentOracle
{
    public sealed record History(IReadOnlyList<ProfileUpdate> Profiles, IReadOnlyList<UserEvent> Events);

    public static IReadOnlyList<string> Members(SegmentNode segment, IReadOnlyDictionary<string, History> users, DateTimeOffset now,
        Func<string, SegmentNode?>? resolve = null) =>
        [.. users.Where(u => u.Value.Profiles.Count + u.Value.Events.Count > 0 && Matches(segment, u.Value, now, resolve ?? (_ => null)))
            .Select(u => u.Key).Order(StringComparer.Ordinal)];

    /// <summary>A segment as one line, for a failing case.</summary>
    public static string Describe(SegmentNode node) => node switch
    {
        AllOf all => "all[" + string.Join(", ", all.Items.Select(Describe)) + "]",
        AnyOf any => "any[" + string.Join(", ", any.Items.Select(Describe)) + "]",
        NotOf not => "not(" + Describe(not.Item) + ")",
        ProfileCondition p => $"profile({Describe(p.Condition)})",
        DidCondition d => $"did({d.Event}, count {d.Count}, within {d.Within}, where [{string.Join(", ", d.Where.Select(Describe))}], first {d.FirstTime}, last {d.LastTime})",
        SegmentRef r => $"ref({r.Ref})",
        _ => node.ToString(),
    };

    private static string Describe(Condition c) => $"{c.Prop} {c.Op} {(c.Value is IEnumerable<object?> l && c.Value is not string ? "[" + string.Join(", ", l) + "]" : c.Value)}";

    public static bool Matches(SegmentNode node, History h, DateTimeOffset now, Func<string, SegmentNode?> resolve) => node switch
    {
        AllOf all => all.Items.All(i => Matches(i, h, now, resolve)),
        AnyOf any => any.Items.Any(i => Matches(i, h, now, resolve)),
        NotOf not => !Matches(not.Item, h, now, resolve),
        ProfileCondition p => ConditionEvaluator.Matches(p.Condition, Props(h), now),
        SegmentRef r => Matches(resolve(r.Ref)!, h, now, resolve),
        DidCondition did => Did(did, h, now),
        _ => throw new NotSupportedException(node.GetType().Name),
    };

    private static Dictionary<string, object?> Props(History h)
    {
        var props = new Dictionary<string, object?>();
        var at = new Dictionary<string, DateTimeOffset>();
        foreach (var u in h.Profiles)
        {
            foreach (var (k, v) in u.Props ?? Core.Props.Empty)
            {
                if (at.TryGetValue(k, out var t) && t > u.Ts) continue;
                props[k] = v;
                at[k] = u.Ts;
            }
        }
        return props;
    }

    private static bool Did(DidCondition did, History h, DateTimeOffset now)
    {
        var matching = h.Events.Where(e => e.Name == did.Event && did.Where.All(c => ConditionEvaluator.Matches(c, e.Props, now))).ToList();
        var count = matching.Count(e => Window.Covers(did.Within, e.Ts, now));
        if (!SegmentEvaluator.InRange(count, did.Count)) return false;
        if (did.FirstTime is null && did.LastTime is null) return true;
        return matching.Count > 0
            && Window.Holds(did.FirstTime, matching.Min(e => e.Ts), now)
            && Window.Holds(did.LastTime, matching.Max(e => e.Ts), now);
    }
}
