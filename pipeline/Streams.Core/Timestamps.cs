using System.Globalization;

namespace Streams.Core;

public static class Timestamps
{
    private static readonly string[] Formats =
    [
        "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
    ];

    /// <summary>
    /// A local date and time in a zone as an instant. A local time that does not exist (the spring-forward
    /// gap) moves to the first minute after it.
    /// </summary>
    public static DateTimeOffset AtLocal(DateTime local, TimeZoneInfo zone)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(local)) local = local.AddMinutes(1);
        return new DateTimeOffset(local, zone.GetUtcOffset(local));
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
