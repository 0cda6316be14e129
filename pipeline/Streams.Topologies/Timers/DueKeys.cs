using System.Globalization;

namespace Streams.Topologies.Timers;

/// <summary>
/// Timer keys start with the due time as 15-digit epoch milliseconds, so a store's byte order is due
/// order and a scan up to <see cref="UpTo"/> visits exactly the timers that are due.
/// </summary>
public static class DueKeys
{
    public static string Due(DateTimeOffset due) =>
        Math.Max(0, due.ToUnixTimeMilliseconds()).ToString("D15", CultureInfo.InvariantCulture);

    /// <summary>The upper bound of a scan for everything due at <paramref name="now"/>, for keys "prefix + due|...".</summary>
    public static string UpTo(string prefix, DateTimeOffset now) => $"{prefix}{Due(now)}|\uffff";
}
