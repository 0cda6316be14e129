namespace Streams.Core.Tests;

public sealed class SlotsTests
{
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
    private static readonly TimeZoneInfo Kolkata = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata");

    [Fact]
    public void A_users_day_is_their_local_day_even_when_dst_makes_it_23_hours_long()
    {
        // 2026-03-08 is the spring-forward day in New York: 00:00 EST (05:00Z) to 24:00 EDT (04:00Z next day).
        var startOfDay = new DateTimeOffset(2026, 3, 8, 5, 0, 0, TimeSpan.Zero);
        Assert.Equal("2026-03-07", Slots.Day(startOfDay.AddTicks(-1), NewYork));
        Assert.Equal("2026-03-08", Slots.Day(startOfDay, NewYork));
        Assert.Equal("2026-03-08", Slots.Day(startOfDay.AddHours(23).AddTicks(-1), NewYork));
        Assert.Equal("2026-03-09", Slots.Day(startOfDay.AddHours(23), NewYork));
        // The same instant is another day for a user in Kolkata.
        Assert.Equal("2026-03-08", Slots.Day(startOfDay.AddHours(-4), Kolkata));
        Assert.Equal("2026-03-07", Slots.Day(startOfDay.AddHours(-4), NewYork));
    }

    [Fact]
    public void Weeks_are_iso_weeks_in_the_users_zone()
    {
        var sundayNightNewYork = new DateTimeOffset(2026, 12, 7, 4, 30, 0, TimeSpan.Zero); // Sun 23:30 EST, Mon 10:00 IST
        Assert.Equal("2026-W49", Slots.Week(sundayNightNewYork, NewYork));
        Assert.Equal("2026-W50", Slots.Week(sundayNightNewYork, Kolkata));
        Assert.Equal("2026-W53", Slots.Week(new DateTimeOffset(2027, 1, 1, 12, 0, 0, TimeSpan.Zero), Kolkata));
    }

    [Fact]
    public void Counters_come_in_reason_order_and_ignoring_global_limits_drops_the_caps()
    {
        var now = new DateTimeOffset(2026, 12, 1, 20, 0, 0, TimeSpan.Zero);
        var slots = Slots.For("cart", 1000, 200, true, new FrequencyCaps(3, 10), "u1", Kolkata, NewYork, now);
        Assert.Equal(
        [
            (CounterKind.Users, "limit:cart", 1000L, Reasons.LimitReached),
            (CounterKind.Users, "daily:cart:2026-12-01", 200L, Reasons.DailyLimitReached),
            (CounterKind.Messages, "cap:u1:d:2026-12-02", 3L, Reasons.FrequencyCapped),
            (CounterKind.Messages, "cap:u1:w:2026-W49", 10L, Reasons.FrequencyCapped),
        ], slots.Select(s => (s.Kind, s.Key, s.Limit, s.Reason)));
        Assert.Equal(2, Slots.For("cart", 1000, 200, false, new FrequencyCaps(3, 10), "u1", Kolkata, NewYork, now).Count);
        Assert.Empty(Slots.For("cart", null, null, true, FrequencyCaps.None, "u1", Kolkata, NewYork, now));
    }
}
