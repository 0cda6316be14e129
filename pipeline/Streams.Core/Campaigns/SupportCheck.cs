using System.Text.Json.Nodes;

namespace Streams.Core.Campaigns;

/// <summary>
/// What the running pipeline can honour today. validate accepts the whole format; apply refuses
/// any field listed here with "not supported yet: path" so nothing is silently ignored.
/// </summary>
public static class SupportCheck
{
    private static readonly string[] Unsupported = [];

    private static readonly string[] LiveUnsupported =
    [
        "who.reach.run_limit", "who.reach.safety_limit", "when.deliver_in", "when.best_time", "when.late", "when.max_lateness",
    ];

    public static IReadOnlyList<string> UnsupportedPaths(CampaignSpec spec, JsonNode? document)
    {
        var found = new List<string>();
        if (spec.Type == CampaignType.Live)
        {
            // Runs, user-zone delivery and best time are what scheduled campaigns do; a live send goes when it triggers.
            foreach (var path in LiveUnsupported)
            {
                if (Find(document, path) is { } node && !(path == "when.deliver_in" && node.ToString() == "campaign_timezone")) found.Add(path);
            }
            found.AddRange(Segments.SegmentEvaluator.LiveProblems(spec.Who.Segment));
        }
        foreach (var path in Unsupported)
        {
            if (Find(document, path) is not null) found.Add(path);
        }
        return found;
    }

    private static JsonNode? Find(JsonNode? node, string path)
    {
        foreach (var part in path.Split('.'))
        {
            node = node is JsonObject o && o.TryGetPropertyValue(part, out var child) ? child : null;
            if (node is null) return null;
        }
        return node;
    }
}
