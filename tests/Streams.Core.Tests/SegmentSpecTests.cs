using Streams.Core.Campaigns;

namespace Streams.Core.Tests;

/// <summary>Saved segment files and the segment syntax over history: what parses, and every problem with its path.</summary>
public sealed class SegmentSpecTests
{
    [Fact]
    public void A_saved_segment_file_parses_with_relative_dates_ranges_and_first_and_last_times()
    {
        var result = CampaignSpecParser.ParseSegment("""
            id: lapsing-buyers
            name: Lapsing buyers
            description: bought before, not lately, renewal soon
            segment:
              all:
                - profile: {prop: renewal, op: within_next, value: 7d}
                - did: {event: Charged, count: {between: [2, 5]}, within: 90d, where: [{prop: amount, op: gte, value: 500}]}
                - did: {event: Charged, first_time: {before: 2026-06-01}, last_time: {before: 30d, after: "2026-01-01T00:00:00Z"}}
            """);

        Assert.True(result.IsValid, string.Join("\n", result.Problems));
        var all = Assert.IsType<AllOf>(result.Segment!.Segment);
        Assert.Equal(new Condition("renewal", ConditionOp.WithinNext, TimeSpan.FromDays(7)), ((ProfileCondition)all.Items[0]).Condition);
        var counted = (DidCondition)all.Items[1];
        Assert.Equal((2L, 5L), (counted.Count!.Gte, counted.Count.Lte));
        var timed = (DidCondition)all.Items[2];
        Assert.Equal(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero), timed.FirstTime!.Before!.At);
        Assert.Equal(TimeSpan.FromDays(30), timed.LastTime!.Before!.Ago);
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), timed.LastTime.After!.At);
    }

    [Theory]
    [InlineData("{did: {event: A, count: {between: [3, 1]}}}", "segment.did.count.between: must be two whole numbers [low, high], 0 <= low <= high (both included)")]
    [InlineData("{did: {event: A, count: {between: [1, 3], gte: 2}}}", "segment.did.count.between: takes the place of gte and lte; give one or the other")]
    [InlineData("{did: {event: A, first_time: {before: yesterday}}}", "segment.did.first_time.before: must be a duration back from now (like 30d or 12h), a date (2026-12-01) or an ISO-8601 time with an offset")]
    [InlineData("{did: {event: A, last_time: {}}}", "segment.did.last_time: needs before, after or both")]
    [InlineData("{did: {event: A, last_time: {since: 3d}}}", "segment.did.last_time.since: unknown field (expected one of: before, after)")]
    [InlineData("{profile: {prop: renewal, op: within_next, value: soon}}", "segment.profile.value: must be a duration like 30s, 5m, 2h or 7d")]
    [InlineData("{profile: {prop: renewal, op: within_soon, value: 7d}}", "segment.profile.op: must be one of: eq, ne, gt, gte, lt, lte, in, contains, exists, within_next, within_last")]
    [InlineData("{did: {event: A, where: [{prop: x, op: eq}]}}", "segment.did.where[0].value: is required")]
    public void A_bad_segment_names_each_problem_with_its_path(string segment, string expected)
    {
        var problems = CampaignSpecParser.ParseSegment("id: s\nname: S\nsegment: " + segment).Problems.Select(p => p.ToString()).ToList();
        Assert.Contains(problems, p => p.StartsWith(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("name: S\nsegment: {did: {event: A}}", "id: is required")]
    [InlineData("id: Bad_Id\nname: S\nsegment: {did: {event: A}}", "id: must match [a-z0-9-]+")]
    [InlineData("id: s\nname: S\nsegment: {did: {event: A}}\nowner: me", "owner: unknown field (expected one of: id, name, description, segment)")]
    [InlineData("id: s\nname: S", "segment: is required")]
    public void A_bad_segment_file_names_each_problem(string file, string expected)
    {
        var problems = CampaignSpecParser.ParseSegment(file).Problems.Select(p => p.ToString()).ToList();
        Assert.Contains(problems, p => p.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Relative_dates_are_for_segments_not_for_trigger_filters()
    {
        var problems = CampaignSpecParser.Parse("id: x\nname: y\ntype: live\nwho: {trigger: {event: E, where: [{prop: d, op: within_next, value: 7d}]}}\nwhat: {provider: p, text: t}")
            .Problems.Select(p => p.ToString()).ToList();
        Assert.Contains(problems, p => p.StartsWith("who.trigger.where[0].op: must be one of: eq, ne, gt, gte, lt, lte, in, contains, exists (", StringComparison.Ordinal));
    }
}
