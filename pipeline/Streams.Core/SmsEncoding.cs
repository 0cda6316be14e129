namespace Streams.Core;

public sealed record SmsInfo(string Encoding, int Units, int Segments);

/// <summary>
/// GSM-7 vs UCS-2 and the segment count (160/153 septets, 70/67 UTF-16 units). A GSM escape pair
/// or a surrogate pair is never split across parts: a part that would end in the middle of one
/// ends before it instead.
/// </summary>
public static class SmsEncoding
{
    public const string Gsm7 = "GSM-7";
    public const string Ucs2 = "UCS-2";

    private const string Basic =
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    private const string Extension = "^{}\\[~]|€\f";

    private static readonly HashSet<char> BasicSet = [.. Basic.Where(c => c != '\u001b')];
    private static readonly HashSet<char> ExtensionSet = [.. Extension];

    public static bool IsGsm7(string text) => text.All(c => BasicSet.Contains(c) || ExtensionSet.Contains(c));

    private static readonly (string From, string To)[] SmartReplacements =
    [
        ("\u2018", "'"), ("\u2019", "'"), ("\u201A", "'"), ("\u201B", "'"), ("\u2032", "'"),
        ("\u201C", "\""), ("\u201D", "\""), ("\u201E", "\""), ("\u201F", "\""), ("\u2033", "\""),
        ("\u2013", "-"), ("\u2014", "-"), ("\u2012", "-"), ("\u2212", "-"),
        ("\u2026", "..."), ("\u00A0", " "), ("\u2007", " "), ("\u202F", " "),
        ("\u200B", ""), ("\u200C", ""), ("\u200D", ""), ("\u2060", ""), ("\uFEFF", ""),
        ("\u00AB", "\""), ("\u00BB", "\""), ("\u2022", "-"),
    ];

    /// <summary>
    /// Replaces typographic characters with GSM-7 look-alikes, but only when that makes the whole text
    /// GSM-7: a text that needs UCS-2 anyway keeps its original characters.
    /// </summary>
    public static string SmartEncode(string text)
    {
        if (IsGsm7(text)) return text;
        var replaced = text;
        foreach (var (from, to) in SmartReplacements) replaced = replaced.Replace(from, to, StringComparison.Ordinal);
        return IsGsm7(replaced) ? replaced : text;
    }

    public static SmsInfo Analyze(string text)
    {
        if (IsGsm7(text))
        {
            var costs = text.Select(c => ExtensionSet.Contains(c) ? 2 : 1).ToList();
            return new SmsInfo(Gsm7, costs.Sum(), Segments(costs, 160, 153));
        }
        var units = new List<int>();
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                units.Add(2);
                i++;
            }
            else units.Add(1);
        }
        return new SmsInfo(Ucs2, units.Sum(), Segments(units, 70, 67));
    }

    private static int Segments(List<int> costs, int single, int part)
    {
        var total = costs.Sum();
        if (total <= single) return 1;
        var segments = 1;
        var used = 0;
        foreach (var c in costs)
        {
            if (used + c > part)
            {
                segments++;
                used = 0;
            }
            used += c;
        }
        return segments;
    }
}
