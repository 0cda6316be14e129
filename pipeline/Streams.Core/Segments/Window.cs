using Streams.Core.Campaigns;

namespace Streams.Core.Segments;

/// <summary>
/// What a <c>did</c>'s <c>within</c> covers at the time of judgement <c>now</c>, the same on the live path and over
/// history. A whole number of days (<c>7d</c>) counts calendar days in UTC: the day of (now − N) through the day of
/// now, both included. Any other duration (<c>36h</c>, <c>90m</c>) is rolling: from now − duration through now, both
/// included. Without <c>within</c>, history counts all of it (the live path: its horizon).
/// </summary>
public static class Window
{
    public static bool WholeDays(TimeSpan within) => within.Ticks % TimeSpan.TicksPerDay == 0;

    /// <summary>The UTC day numbers (days since 1970-01-01) a whole-day window covers, both included.</summary>
    public static (int From, int To) Days(TimeSpan within, DateTimeOffset now) => (BehaviourSummary.DayOf(now - within), BehaviourSummary.DayOf(now));

    /// <summary>Whether an event at <paramref name="ts"/> falls in the window.</summary>
    public static bool Covers(TimeSpan? within, DateTimeOffset ts, DateTimeOffset now)
    {
        if (within is not { } w) return true;
        if (WholeDays(w))
        {
            var (from, to) = Days(w, now);
            var day = BehaviourSummary.DayOf(ts);
            return day >= from && day <= to;
        }
        return ts >= now - w && ts <= now;
    }

    /// <summary>Whether a first or last time satisfies its bound: strictly before <c>before</c>, at or after <c>after</c>.</summary>
    public static bool Holds(TimeBound? bound, DateTimeOffset at, DateTimeOffset now) =>
        bound is null || ((bound.Before is not { } b || at < b.Resolve(now)) && (bound.After is not { } a || at >= a.Resolve(now)));
}
