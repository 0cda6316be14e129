using System.Globalization;

namespace Streams.Core;

public static partial class Timestamps
{
    // Most specific first: events mostly carry seconds and a fraction, and each format tried before the one that
    // matches is a failed parse on every event. An input matches at most one of them.
    private static readonly string[] Formats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mmK",
    ];

    /// <summary>
    /// A local date and time in a zone as an instant. A local time that does not exist (the spring-forward
    /// gap) moves to the first minute after it; one that happens twice (DST ends) is the earlier (as Cronos fires).
    /// </summary>
    public static DateTimeOffset AtLocal(DateTime local, TimeZoneInfo zone)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(local)) local = local.AddMinutes(1);
        return new DateTimeOffset(local, zone.IsAmbiguousTime(local) ? zone.GetAmbiguousTimeOffsets(local).Max() : zone.GetUtcOffset(local));
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?<y>\d{4})-(?<mo>\d{2})-(?<d>\d{2})(?:[Tt ](?<h>\d{2}):(?<mi>\d{2})(?::(?<s>\d{2})(?:\.\d+)?)?)?(?<off>[Zz]|[+-]\d{2}:\d{2})?$")]
    private static partial System.Text.RegularExpressions.Regex IsoShape();

    /// <summary>
    /// Why <paramref name="text"/> is not an instant <see cref="TryParseInstant"/> takes, in plain words: a date
    /// that does not exist, a time of day out of range, a missing offset, or not ISO-8601 at all.
    /// </summary>
    public static string WhyNotInstant(string text)
    {
        var m = IsoShape().Match(text.Trim());
        if (!m.Success) return "not an ISO-8601 time with an offset (e.g. 2026-12-01T10:00:00Z)";
        if (DateProblem(m) is { } problem) return problem;
        if (!m.Groups["h"].Success) return "a date without a time of day (e.g. 2026-12-01T10:00:00Z)";
        if (!m.Groups["off"].Success) return "no offset: add Z for UTC or one like +05:30";
        var off = m.Groups["off"].Value;
        if (off.Length == 6 && (int.Parse(off.AsSpan(1, 2), CultureInfo.InvariantCulture) > 14 || int.Parse(off.AsSpan(4, 2), CultureInfo.InvariantCulture) > 59))
            return $"no such offset {off} (offsets go from -14:00 to +14:00)";
        return "not an ISO-8601 time with an offset (e.g. 2026-12-01T10:00:00Z)";
    }

    /// <summary>Why a local date-time like 2026-02-30T10:00 does not exist, or null when it does (or is not of that shape).</summary>
    public static string? WhyNotLocal(string text)
    {
        var m = IsoShape().Match(text.Trim());
        return m.Success ? DateProblem(m) : null;
    }

    private static string? DateProblem(System.Text.RegularExpressions.Match m)
    {
        int G(string name) => int.Parse(m.Groups[name].Value, CultureInfo.InvariantCulture);
        var (year, month, day) = (G("y"), G("mo"), G("d"));
        if (year < 1) return $"no such year {m.Groups["y"].Value}";
        if (month is < 1 or > 12) return $"no such month {m.Groups["mo"].Value} (months go from 01 to 12)";
        var days = DateTime.DaysInMonth(year, month);
        if (day < 1 || day > days)
            return $"no such date {m.Groups["y"].Value}-{m.Groups["mo"].Value}-{m.Groups["d"].Value} ({CultureInfo.InvariantCulture.DateTimeFormat.GetMonthName(month)} {year} has {days} days)";
        if (m.Groups["h"].Success && (G("h") > 23 || G("mi") > 59 || (m.Groups["s"].Success && G("s") > 59)))
            return $"no such time of day {m.Groups["h"].Value}:{m.Groups["mi"].Value}{(m.Groups["s"].Success ? ":" + m.Groups["s"].Value : "")}";
        return null;
    }

    /// <summary>ISO-8601 with an explicit offset (Z or ±hh:mm). A time without an offset is ambiguous and refused.</summary>
    public static bool TryParseInstant(string text, out DateTimeOffset value)
    {
        value = default;
        text = text.Trim();
        if (text.Length < 17) return false;
        var last = text[^1];
        var hasOffset = last is 'Z' or 'z' || (text.Length > 6 && (text[^6] is '+' or '-') && text[^3] == ':');
        if (!hasOffset) return false;
        return DateTimeOffset.TryParseExact(text, Formats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out value);
    }
}
