namespace Streams.Core;

public enum DndMode { Delay, Discard }

/// <summary>
/// Do-Not-Disturb hours in the user's local time, [from, to). A window whose end is before its start
/// crosses midnight (22:00–09:00). The end is found on the user's calendar, so DST changes move it
/// correctly; a local end time that does not exist (spring-forward gap) moves to the first moment after.
/// </summary>
public sealed record DndWindow(TimeOnly From, TimeOnly To, DndMode Mode)
{
    public bool Contains(DateTimeOffset now, TimeZoneInfo zone) => Contains(TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime));

    public bool Contains(TimeOnly local) => From < To ? local >= From && local < To : local >= From || local < To;

    /// <summary>The first instant at or after now when the window is over.</summary>
    public DateTimeOffset EndAfter(DateTimeOffset now, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(now, zone).DateTime;
        var day = DateOnly.FromDateTime(local);
        var end = day.ToDateTime(To);
        if (end <= local) end = day.AddDays(1).ToDateTime(To);
        return Timestamps.AtLocal(end, zone);
    }
}
