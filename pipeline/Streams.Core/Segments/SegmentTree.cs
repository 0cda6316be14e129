using Streams.Core.Campaigns;

namespace Streams.Core.Segments;

public static class SegmentTree
{
    /// <summary>The saved segments a tree names directly (refs inside them are theirs), in tree order.</summary>
    public static IEnumerable<string> Refs(SegmentNode? node) => node switch
    {
        SegmentRef r => [r.Ref],
        AllOf all => all.Items.SelectMany(Refs),
        AnyOf any => any.Items.SelectMany(Refs),
        NotOf not => Refs(not.Item),
        _ => [],
    };

    /// <summary>Whether a tree names saved segments (judged from sms.segments over history, or memberships on the live path).</summary>
    public static bool HasRefs(SegmentNode? node) => Refs(node).Any();
}
