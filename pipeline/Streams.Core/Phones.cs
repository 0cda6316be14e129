using PhoneNumbers;

namespace Streams.Core;

/// <summary>Phone numbers (libphonenumber) and the user's time zone rule, shared by the topologies and the dispatcher.</summary>
public static class Phones
{
    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();
    private static readonly PhoneNumberToTimeZonesMapper TimeZones = PhoneNumberToTimeZonesMapper.GetInstance();

    /// <summary>The number when libphonenumber accepts it as valid, else null.</summary>
    public static PhoneNumber? Parse(string? phone)
    {
        if (string.IsNullOrWhiteSpace(phone)) return null;
        try
        {
            var parsed = Util.Parse(phone, null);
            return Util.IsValidNumber(parsed) ? parsed : null;
        }
        catch (NumberParseException)
        {
            return null;
        }
    }

    public static string E164(PhoneNumber phone) => Util.Format(phone, PhoneNumberFormat.E164);

    /// <summary>Why a number cannot be sent to, in words a marketer understands; null when it is valid.</summary>
    public static string? Problem(string phone)
    {
        const string Format = "write it in international format: + then the country code and the number, e.g. +14155550100";
        if (string.IsNullOrWhiteSpace(phone)) return "no number given";
        if (phone.Count(char.IsAsciiDigit) is > 0 and < 4) return "too short to be a phone number";
        PhoneNumber parsed;
        try
        {
            parsed = Util.Parse(phone, null);
        }
        catch (NumberParseException e)
        {
            return e.ErrorType switch
            {
                ErrorType.INVALID_COUNTRY_CODE when phone.TrimStart().StartsWith('+') => $"unknown country code; {Format}",
                ErrorType.INVALID_COUNTRY_CODE => $"no country code; {Format}",
                ErrorType.TOO_SHORT_NSN or ErrorType.TOO_SHORT_AFTER_IDD => "too short to be a phone number",
                ErrorType.TOO_LONG => "too long: a phone number has at most 15 digits",
                _ => $"not a phone number; {Format}",
            };
        }
        if (Util.IsValidNumber(parsed)) return null;
        var country = Country(parsed.CountryCode);
        var digits = Util.GetNationalSignificantNumber(parsed).Length;
        var usual = UsualLengths(parsed.CountryCode);
        var lengths = usual.Count == 0 ? "" : $": {digits} digits after +{parsed.CountryCode}, numbers there have {string.Join(" or ", usual)}";
        return Util.IsPossibleNumberWithReason(parsed) switch
        {
            PhoneNumberUtil.ValidationResult.INVALID_COUNTRY_CODE => $"unknown country code +{parsed.CountryCode}",
            PhoneNumberUtil.ValidationResult.TOO_SHORT => $"too short for a number in {country}{lengths}",
            PhoneNumberUtil.ValidationResult.TOO_LONG => $"too long for a number in {country}{lengths}",
            _ when usual.Count > 0 && digits < usual.Min() => $"too short for a number in {country}{lengths}",
            _ when usual.Count > 0 && digits > usual.Max() => $"too long for a number in {country}{lengths}",
            _ => $"not a number in use in {country}: check the digits after the country code",
        };
    }

    /// <summary>How many digits mobile and fixed-line numbers of the country have after its calling code (from libphonenumber's examples).</summary>
    private static List<int> UsualLengths(int callingCode)
    {
        var region = Util.GetRegionCodeForCountryCode(callingCode);
        if (region is null or "ZZ") return [];
        return new[] { PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE }
            .Select(t => Util.GetExampleNumberForType(region, t))
            .Where(e => e is not null)
            .Select(e => Util.GetNationalSignificantNumber(e).Length)
            .Distinct().Order().ToList();
    }

    /// <summary>"India (+91)": the country's English name and calling code, or the code alone when it spans several.</summary>
    public static string Country(int callingCode)
    {
        var region = Util.GetRegionCodeForCountryCode(callingCode);
        if (region is null or "ZZ" or "001") return $"+{callingCode}";
        try { return $"{new System.Globalization.RegionInfo(region).EnglishName} (+{callingCode})"; }
        catch (ArgumentException) { return $"{region} (+{callingCode})"; }
    }

    /// <summary>The profile's time zone, else the phone number's (when it has a single zone), else the campaign's, else UTC.</summary>
    public static TimeZoneInfo UserTimeZone(string? profileZone, PhoneNumber? phone, string? campaignZone)
    {
        if (profileZone is not null && TimeZoneInfo.TryFindSystemTimeZoneById(profileZone, out var z)) return z;
        if (phone is not null && TimeZones.GetTimeZonesForNumber(phone) is [var only] && only != "Etc/Unknown"
            && TimeZoneInfo.TryFindSystemTimeZoneById(only, out var fromPhone)) return fromPhone;
        if (campaignZone is not null && TimeZoneInfo.TryFindSystemTimeZoneById(campaignZone, out var c)) return c;
        return TimeZoneInfo.Utc;
    }

    private static readonly Dictionary<string, string> CurrentNames = new(StringComparer.Ordinal)
    {
        ["Asia/Calcutta"] = "Asia/Kolkata", ["Asia/Saigon"] = "Asia/Ho_Chi_Minh", ["Asia/Katmandu"] = "Asia/Kathmandu",
        ["Asia/Rangoon"] = "Asia/Yangon", ["Europe/Kiev"] = "Europe/Kyiv", ["America/Buenos_Aires"] = "America/Argentina/Buenos_Aires",
        ["Atlantic/Faeroe"] = "Atlantic/Faroe", ["Pacific/Truk"] = "Pacific/Chuuk", ["Pacific/Ponape"] = "Pacific/Pohnpei",
    };

    /// <summary>A zone's current IANA name: the phone library still answers some old ones (Asia/Calcutta for Asia/Kolkata).</summary>
    public static string ZoneName(TimeZoneInfo zone) => CurrentNames.GetValueOrDefault(zone.Id, zone.Id);
}
