using System.Globalization;

namespace Streams.Core;

public static class Timestamps
{
    private static readonly string[] Formats =
    [
        "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
    ];

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
