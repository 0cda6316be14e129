using Streams.Core.Campaigns;

namespace Streams.Core.Tests;

public sealed class ConditionEvaluatorTests
{
    private static readonly Dictionary<string, object?> Props = new()
    {
        ["value"] = 799.0, ["qty"] = 2L, ["city"] = "Mumbai", ["vip"] = true, ["when"] = "2026-12-01T10:00:00Z", ["code"] = "500", ["none"] = null,
    };

    [Theory]
    [InlineData("value", ConditionOp.Gte, 500L, true)]
    [InlineData("value", ConditionOp.Gt, 799.0, false)]
    [InlineData("qty", ConditionOp.Eq, 2.0, true)]
    [InlineData("code", ConditionOp.Lt, 501L, true)]
    [InlineData("city", ConditionOp.Eq, "Mumbai", true)]
    [InlineData("city", ConditionOp.Ne, "Pune", true)]
    [InlineData("missing", ConditionOp.Ne, "Pune", true)]
    [InlineData("missing", ConditionOp.Eq, "Pune", false)]
    [InlineData("none", ConditionOp.Exists, true, false)]
    [InlineData("city", ConditionOp.Contains, "mum", true)]
    [InlineData("vip", ConditionOp.Eq, true, true)]
    [InlineData("vip", ConditionOp.Gt, 0L, false)]
    [InlineData("when", ConditionOp.Gte, "2026-12-01T15:00:00+05:30", true)]
    [InlineData("when", ConditionOp.Lt, "2026-12-01", false)]
    [InlineData("missing", ConditionOp.Exists, false, true)]
    public void Filters_compare_strings_numbers_booleans_and_dates(string prop, ConditionOp op, object value, bool expected) =>
        Assert.Equal(expected, ConditionEvaluator.Matches(new Condition(prop, op, value), Props));

    [Fact]
    public void In_matches_any_listed_value_across_types() =>
        Assert.True(ConditionEvaluator.Matches(new Condition("qty", ConditionOp.In, new List<object?> { "1", 2L }), Props));
}

public sealed class SmsEncodingTests
{
    [Theory]
    [InlineData(160, 0, "GSM-7", 1)]
    [InlineData(161, 0, "GSM-7", 2)]
    [InlineData(306, 0, "GSM-7", 2)]
    [InlineData(307, 0, "GSM-7", 3)]
    public void Gsm_text_counts_160_single_and_153_per_part(int length, int _, string encoding, int segments)
    {
        var info = SmsEncoding.Analyze(new string('a', length));
        Assert.Equal((encoding, segments), (info.Encoding, info.Segments));
    }

    [Fact]
    public void Provider_test_vectors_hold()
    {
        Assert.Equal(("GSM-7", 160, 1), Tuple(SmsEncoding.Analyze("{" + new string('a', 158))));
        Assert.Equal(2, SmsEncoding.Analyze("{" + new string('a', 159)).Segments);
        Assert.Equal(("UCS-2", 70, 1), Tuple(SmsEncoding.Analyze("😜" + new string('a', 68))));
        Assert.Equal(2, SmsEncoding.Analyze("😜" + new string('a', 69)).Segments);
    }

    private static (string, int, int) Tuple(SmsInfo i) => (i.Encoding, i.Units, i.Segments);
}
