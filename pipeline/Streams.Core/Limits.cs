using System.Globalization;

namespace Streams.Core;

/// <summary>Global per-user frequency caps (configuration `limits.per_user`); null means no cap.</summary>
public sealed record FrequencyCaps(int? Day, int? Week)
{
    public static readonly FrequencyCaps None = new(null, null);
}

/// <summary>
/// One counter a send must fit under. A <see cref="CounterKind.Users"/> counter counts distinct users
/// (reach limits: a user already counted passes); a <see cref="CounterKind.Messages"/> counter counts sends.
/// </summary>
public sealed record Slot(CounterKind Kind, string Key, long Limit, TimeSpan Keep, string Reason);

public enum CounterKind { Users, Messages }

/// <summary>
/// Which counters a request must fit under, in the order of their reason codes: limit_reached,
/// daily_limit_reached, then frequency_capped (day, then week). Days and weeks are the user's own
/// (their time zone, so a 23- or 25-hour DST day is still one day); a campaign's daily limit uses the
/// campaign's time zone. Weeks are ISO weeks.
/// </summary>
public static class Slots
{
    public static IReadOnlyList<Slot> For(
        string campaignId, long? limit, long? dailyLimit, bool globalLimits, FrequencyCaps caps, string userId,
        TimeZoneInfo userZone, TimeZoneInfo campaignZone, DateTimeOffset now)
    {
        var slots = new List<Slot>(4);
        if (limit is { } l) slots.Add(new Slot(CounterKind.Users, $"limit:{campaignId}", l, TimeSpan.FromDays(400), Reasons.LimitReached));
        if (dailyLimit is { } d)
            slots.Add(new Slot(CounterKind.Users, $"daily:{campaignId}:{Day(now, campaignZone)}", d, TimeSpan.FromDays(2), Reasons.DailyLimitReached));
        if (globalLimits)
        {
            if (caps.Day is { } day)
                slots.Add(new Slot(CounterKind.Messages, $"cap:{userId}:d:{Day(now, userZone)}", day, TimeSpan.FromDays(2), Reasons.FrequencyCapped));
            if (caps.Week is { } week)
                slots.Add(new Slot(CounterKind.Messages, $"cap:{userId}:w:{Week(now, userZone)}", week, TimeSpan.FromDays(8), Reasons.FrequencyCapped));
        }
        return slots;
    }

    public static string Day(DateTimeOffset now, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(now, zone).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string Week(DateTimeOffset now, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(now, zone).DateTime;
        return $"{ISOWeek.GetYear(local):D4}-W{ISOWeek.GetWeekOfYear(local):D2}";
    }
}
