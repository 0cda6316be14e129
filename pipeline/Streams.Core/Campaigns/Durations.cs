using System.Globalization;
using System.Text.RegularExpressions;

namespace Streams.Core.Campaigns;

/// <summary>Duration syntax of the spec: an optional sign, a whole number and one of s m h d.</summary>
public static partial class Durations
{
    [GeneratedRegex(@"^(?<sign>[-+]?)(?<n>\d{1,9})(?<unit>[smhd])$")]
    private static partial Regex Pattern();

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (text is null) return false;
        var m = Pattern().Match(text.Trim());
        if (!m.Success) return false;
        var n = long.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
        value = m.Groups["unit"].Value switch
        {
            "s" => TimeSpan.FromSeconds(n),
            "m" => TimeSpan.FromMinutes(n),
            "h" => TimeSpan.FromHours(n),
            _ => TimeSpan.FromDays(n),
        };
        if (m.Groups["sign"].Value == "-") value = -value;
        return true;
    }

    public static string Format(TimeSpan t)
    {
        var sign = t < TimeSpan.Zero ? "-" : "";
        t = t.Duration();
        if (t.TotalDays >= 1 && t.Ticks % TimeSpan.TicksPerDay == 0) return $"{sign}{(long)t.TotalDays}d";
        if (t.Ticks % TimeSpan.TicksPerHour == 0 && t.TotalHours >= 1) return $"{sign}{(long)t.TotalHours}h";
        if (t.Ticks % TimeSpan.TicksPerMinute == 0 && t.TotalMinutes >= 1) return $"{sign}{(long)t.TotalMinutes}m";
        return $"{sign}{(long)t.TotalSeconds}s";
    }
}
