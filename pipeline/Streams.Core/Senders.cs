using System.Text.RegularExpressions;

namespace Streams.Core;

/// <summary>What may stand in an SMS's "from": an E.164 number, a short code, or an alphanumeric sender id.</summary>
public static partial class Senders
{
    [GeneratedRegex("^[0-9]+$")]
    private static partial Regex Digits();

    [GeneratedRegex("^[A-Za-z0-9 ]+$")]
    private static partial Regex Alphanumeric();

    public const string Kinds = "an E.164 number (+14155550100), a short code (3 to 8 digits) or an alphanumeric sender id (up to 11 letters, digits or spaces, with a letter)";

    /// <summary>Why <paramref name="from"/> cannot be a sender, or null when it can.</summary>
    public static string? Problem(string from)
    {
        if (from.StartsWith('+'))
            return Phones.Parse(from) is null ? $"is not a valid phone number ({Phones.Problem(from)})" : null;
        if (Digits().IsMatch(from))
            return from.Length is >= 3 and <= 8 ? null : $"is not a short code (3 to 8 digits); a phone number starts with + and the country code";
        if (Alphanumeric().IsMatch(from) && from.Any(char.IsAsciiLetter))
            return from.Length <= 11 ? null : $"is too long for an alphanumeric sender id ({from.Length} characters, at most 11)";
        return $"is not a sender: use {Kinds}";
    }
}
