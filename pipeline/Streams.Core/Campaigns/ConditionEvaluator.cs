using System.Globalization;

namespace Streams.Core.Campaigns;

/// <summary>
/// Property filters over string, number, boolean and date values. Numbers compare as numbers
/// (a numeric string counts), ISO-8601 times with offsets compare as instants, and anything else
/// falls back to ordinal string comparison. A missing property satisfies only ne and exists:false.
/// within_next / within_last hold for a date or instant between <c>now</c> and now ± the duration, both included.
/// </summary>
public static class ConditionEvaluator
{
    public static bool All(IReadOnlyList<Condition> conditions, IReadOnlyDictionary<string, object?> props)
    {
        foreach (var c in conditions)
        {
            if (!Matches(c, props)) return false;
        }
        return true;
    }

    public static bool Matches(Condition c, IReadOnlyDictionary<string, object?> props, DateTimeOffset? now = null)
    {
        var present = props.TryGetValue(c.Prop, out var actual) && actual is not null;
        switch (c.Op)
        {
            case ConditionOp.Exists:
                return present == (c.Value is not false);
            case ConditionOp.Ne:
                return !present || !EqualValues(actual, c.Value);
        }
        if (!present) return false;
        return c.Op switch
        {
            ConditionOp.Eq => EqualValues(actual, c.Value),
            ConditionOp.In => c.Value is IEnumerable<object?> list && list.Any(v => EqualValues(actual, v)),
            ConditionOp.Contains => actual is string s && c.Value is not null &&
                s.Contains(Text(c.Value), StringComparison.OrdinalIgnoreCase),
            ConditionOp.Gt => Compare(actual, c.Value) is > 0,
            ConditionOp.Gte => Compare(actual, c.Value) is >= 0,
            ConditionOp.Lt => Compare(actual, c.Value) is < 0,
            ConditionOp.Lte => Compare(actual, c.Value) is <= 0,
            ConditionOp.WithinNext => now is { } n && c.Value is TimeSpan ahead && InstantOf(actual!) is { } t && t >= n && t <= n + ahead,
            ConditionOp.WithinLast => now is { } n && c.Value is TimeSpan back && InstantOf(actual!) is { } t && t >= n - back && t <= n,
            _ => false,
        };
    }

    private static bool EqualValues(object? a, object? b)
    {
        if (a is null || b is null) return a is null && b is null;
        if (a is bool || b is bool) return a is bool x && b is bool y ? x == y : string.Equals(Text(a), Text(b), StringComparison.OrdinalIgnoreCase);
        if (Number(a) is { } na && Number(b) is { } nb) return na == nb;
        if (InstantOf(a) is { } ia && InstantOf(b) is { } ib) return ia == ib;
        return string.Equals(Text(a), Text(b), StringComparison.Ordinal);
    }

    /// <summary>null when the two values cannot be ordered.</summary>
    private static int? Compare(object? a, object? b)
    {
        if (a is null || b is null || a is bool || b is bool) return null;
        if (Number(a) is { } na && Number(b) is { } nb) return na.CompareTo(nb);
        if (InstantOf(a) is { } ia && InstantOf(b) is { } ib) return ia.CompareTo(ib);
        if (a is string sa && b is string sb) return string.CompareOrdinal(sa, sb);
        return null;
    }

    private static double? Number(object v) => v switch
    {
        long l => l,
        double d => d,
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => null,
    };

    /// <summary>An ISO-8601 time with an offset, or a date (midnight UTC), as an instant; else null.</summary>
    public static DateTimeOffset? InstantOf(object v) => v switch
    {
        string s when Timestamps.TryParseInstant(s, out var t) => t,
        string s when DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) =>
            new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero),
        _ => null,
    };

    /// <summary>A value as the filters compare it as text (numbers in invariant culture).</summary>
    public static string Text(object v) => v switch
    {
        double d => d.ToString(CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };
}
