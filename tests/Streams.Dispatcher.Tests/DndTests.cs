using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Tests;

namespace Streams.Dispatcher.Tests;

public sealed class DndTests
{
    private static readonly TimeZoneInfo Kolkata = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata");
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
    private static readonly DndWindow Night = new(new TimeOnly(22, 0), new TimeOnly(9, 0), DndMode.Delay);

    private static DateTimeOffset Local(int month, int day, int hour, int minute, TimeZoneInfo zone)
    {
        var local = new DateTime(2026, month, day, hour, minute, 0, DateTimeKind.Unspecified);
        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }

    [Theory]
    [InlineData(21, 59, false)]
    [InlineData(22, 0, true)]
    [InlineData(23, 30, true)]
    [InlineData(0, 0, true)]
    [InlineData(8, 59, true)]
    [InlineData(9, 0, false)]
    [InlineData(12, 0, false)]
    public void A_window_across_midnight_covers_the_night(int hour, int minute, bool inside) =>
        Assert.Equal(inside, Night.Contains(Local(12, 1, hour, minute, Kolkata), Kolkata));

    [Fact]
    public void The_window_ends_at_the_next_local_end_time()
    {
        Assert.Equal(Local(12, 2, 9, 0, Kolkata), Night.EndAfter(Local(12, 1, 23, 30, Kolkata), Kolkata));
        Assert.Equal(Local(12, 2, 9, 0, Kolkata), Night.EndAfter(Local(12, 2, 8, 59, Kolkata), Kolkata));
        // Across the spring-forward night in New York the window is an hour shorter: 22:00 EST to 09:00 EDT.
        var end = Night.EndAfter(Local(3, 7, 23, 0, NewYork), NewYork);
        Assert.Equal(new DateTimeOffset(2026, 3, 8, 13, 0, 0, TimeSpan.Zero), end.ToUniversalTime());
    }

    [Fact]
    public void A_window_ending_in_a_dst_gap_ends_at_the_first_valid_minute()
    {
        var early = new DndWindow(new TimeOnly(23, 0), new TimeOnly(2, 30), DndMode.Delay);
        var end = early.EndAfter(Local(3, 7, 23, 30, NewYork), NewYork);
        Assert.Equal(new DateTimeOffset(2026, 3, 8, 7, 0, 0, TimeSpan.Zero), end.ToUniversalTime()); // 03:00 EDT
    }

    private static CampaignEntry Campaign(string when) => Build.Entry(Build.LiveYaml(extra: when));

    private static SmsRequest Request() =>
        new("r1", "cart", 1, "u1", DateTimeOffset.UnixEpoch, new RequestContext("E", null, Props.Empty, "+919876543210", null, null, Props.Empty));

    [Fact]
    public void Campaign_dnd_delays_or_discards_in_the_users_time_and_the_configured_default_applies_otherwise()
    {
        var at = Local(12, 1, 23, 0, Kolkata);
        var delayed = Assert.IsType<Delay>(SendDecision.Decide(Request(), Campaign("when: {dnd: {from: \"22:00\", to: \"09:00\"}}"), FrequencyCaps.None, null, false, at));
        Assert.Equal((Local(12, 2, 9, 0, Kolkata), "dnd"), (delayed.Until, delayed.Cause));
        var discarded = Decisions.Stopped(SendDecision.Decide(Request(), Campaign("when: {dnd: {from: \"22:00\", to: \"09:00\", action: discard}}"), FrequencyCaps.None, null, false, at));
        Assert.Equal(Reasons.DndDiscarded, discarded.Reason);
        Assert.IsType<Delay>(SendDecision.Decide(Request(), Campaign(""), FrequencyCaps.None, Night, false, at));
        Decisions.Sent(SendDecision.Decide(Request(), Campaign(""), FrequencyCaps.None, null, false, at));
        // Opt-out is checked before DND: an opted-out user is never delayed.
        Assert.Equal(Reasons.OptedOut, Decisions.Stopped(SendDecision.Decide(Request(), Campaign(""), FrequencyCaps.None, Night, true, at)).Reason);
        // At the window's end the request goes out.
        Decisions.Sent(SendDecision.Decide(Request(), Campaign(""), FrequencyCaps.None, Night, false, Local(12, 2, 9, 0, Kolkata)));
    }
}
