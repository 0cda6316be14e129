using MathNet.Numerics.Distributions;

namespace Streams.Analytics.Reports;

/// <summary>One arm of a comparison: exposures, the exposures that converted, and their revenue.</summary>
public sealed record Arm(long Exposed, long Converted, double Revenue)
{
    public static readonly Arm Empty = new(0, 0, 0);

    public double? Rate => Exposed == 0 ? null : (double)Converted / Exposed;
}

/// <summary>
/// Treatment against control: absolute lift (difference of conversion rates) with a 95% Wald interval, relative lift,
/// the two-sided p-value of the pooled two-proportion z-test, and incremental conversions and revenue over the
/// treatment's exposures. Null figures when there is not enough data (<see cref="Enough"/>).
/// </summary>
public sealed record Lift(Arm Treatment, Arm Control, bool Enough, double? Absolute, double? Low, double? High, double? Relative, double? PValue,
    double? IncrementalConversions, double? IncrementalRevenue)
{
    /// <summary>Fewer exposures than this in either arm: not enough data.</summary>
    public const int MinimumExposed = 30;

    /// <summary>
    /// Under the pooled rate each arm must expect at least this many conversions and as many non-conversions: below that
    /// the normal approximation the interval and the test rest on does not hold.
    /// </summary>
    public const int MinimumExpected = 5;

    private static readonly double Z95 = Normal.InvCDF(0, 1, 0.975);

    public static Lift Of(Arm treatment, Arm control)
    {
        var n1 = (double)treatment.Exposed;
        var n2 = (double)control.Exposed;
        var enough = n1 >= MinimumExposed && n2 >= MinimumExposed;
        if (enough)
        {
            var pooled = (treatment.Converted + control.Converted) / (n1 + n2);
            enough = Math.Min(n1, n2) * Math.Min(pooled, 1 - pooled) >= MinimumExpected;
        }
        if (!enough) return new Lift(treatment, control, false, null, null, null, null, null, null, null);

        var p1 = treatment.Converted / n1;
        var p2 = control.Converted / n2;
        var diff = p1 - p2;
        var se = Math.Sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2);
        var p = (treatment.Converted + control.Converted) / (n1 + n2);
        var sePooled = Math.Sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
        var z = sePooled == 0 ? 0 : diff / sePooled;
        var pValue = 2 * (1 - Normal.CDF(0, 1, Math.Abs(z)));
        double? relative = p2 == 0 ? null : diff / p2;
        var incrementalRevenue = (treatment.Revenue / n1 - control.Revenue / n2) * n1;
        return new Lift(treatment, control, true, diff, diff - Z95 * se, diff + Z95 * se, relative, pValue, diff * n1, incrementalRevenue);
    }
}
