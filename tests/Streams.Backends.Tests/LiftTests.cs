using Streams.Analytics.Reports;

namespace Streams.Backends.Tests;

/// <summary>Lift statistics against values worked out by hand (the formulas in docs/analysts.md).</summary>
public sealed class LiftTests
{
    [Fact]
    public void Lift_interval_p_value_and_increments_match_the_hand_computed_values()
    {
        // Treatment 100 of 400 (25%), revenue 5000; control 30 of 200 (15%), revenue 1200.
        // diff = 0.10; SE = sqrt(.25*.75/400 + .15*.85/200) = 0.0332603; 95% CI = 0.10 ± 1.959964 * SE = [0.0348109, 0.1651891]
        // pooled p = 130/600; SE0 = sqrt(p(1-p)(1/400 + 1/200)) = 0.0356780; z = 2.802851; two-sided p = 0.0050653
        // incremental conversions = 0.10 * 400 = 40; incremental revenue = (5000/400 - 1200/200) * 400 = 2600
        var lift = Lift.Of(new Arm(400, 100, 5000), new Arm(200, 30, 1200));
        Assert.True(lift.Enough);
        Assert.Equal(0.10, lift.Absolute!.Value, 9);
        Assert.Equal(0.0348109, lift.Low!.Value, 6);
        Assert.Equal(0.1651891, lift.High!.Value, 6);
        Assert.Equal(2.0 / 3, lift.Relative!.Value, 9);
        Assert.Equal(0.0050653, lift.PValue!.Value, 6);
        Assert.Equal(40, lift.IncrementalConversions!.Value, 9);
        Assert.Equal(2600, lift.IncrementalRevenue!.Value, 6);
        Assert.Equal("lift +10.0 pts (95% CI +3.5 to +16.5), relative +67%, p=0.0051, +40 conversions, +2600.00 revenue (treatment 25.0% of 400, control 15.0% of 200)",
            ReportFormats.LiftLine(lift));
    }

    [Fact]
    public void No_difference_gives_p_one_and_an_interval_around_zero()
    {
        var lift = Lift.Of(new Arm(1000, 100, 0), new Arm(1000, 100, 0));
        Assert.Equal((0.0, 1.0), (lift.Absolute!.Value, lift.PValue!.Value));
        Assert.Equal(-lift.Low!.Value, lift.High!.Value, 12);
    }

    [Theory]
    [InlineData(29, 10, 500, 50)]   // control below 30 exposures
    [InlineData(500, 50, 29, 10)]   // treatment below 30 exposures
    [InlineData(1000, 2, 100, 0)]   // 2 conversions in all: the control expects 0.2 (< 5)
    [InlineData(0, 0, 0, 0)]
    public void Below_the_documented_minimum_it_is_not_enough_data(long n1, long c1, long n2, long c2)
    {
        var lift = Lift.Of(new Arm(n1, c1, 0), new Arm(n2, c2, 0));
        Assert.False(lift.Enough);
        Assert.Null(lift.Absolute);
        Assert.StartsWith(n1 + n2 == 0 ? "lift: no exposures" : "lift: not enough data", ReportFormats.LiftLine(lift));
    }
}
