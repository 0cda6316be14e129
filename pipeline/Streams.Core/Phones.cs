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

    /// <summary>Why a number cannot be sent to, in libphonenumber's words; null when it is valid.</summary>
    public static string? Problem(string phone)
    {
        try
        {
            var parsed = Util.Parse(phone, null);
            if (Util.IsValidNumber(parsed)) return null;
            var possible = Util.IsPossibleNumberWithReason(parsed);
            return possible == PhoneNumberUtil.ValidationResult.IS_POSSIBLE
                ? $"not a valid number for region {Util.GetRegionCodeForNumber(parsed) ?? "unknown"}"
                : possible.ToString();
        }
        catch (NumberParseException e)
        {
            return $"{e.ErrorType}: {e.Message}";
        }
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
}
