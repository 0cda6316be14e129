using System.Text.Json;

namespace Streams.Analytics;

/// <summary>
/// The funnel as JSON: what `streams report --format json` prints and what GET /report answers (and the CLI reads
/// back from a running pipeline). One contract, kept here beside the funnel itself.
/// </summary>
public static class FunnelJson
{
    private static readonly JsonSerializerOptions Options = AnalyticsJson.Options;

    public sealed record Row(string CampaignId, long Qualified, Dictionary<string, long> Suppressed, long SuppressedTotal, long Sent, long Delivered,
        long Failed, long Pending, Dictionary<string, long>? FailedByReason = null, long Expired = 0, long Ambiguous = 0);

    public static string Serialize(IReadOnlyList<FunnelRow> rows) => JsonSerializer.Serialize(
        rows.Select(r => new Row(r.CampaignId, r.Qualified, r.Suppressed.OrderBy(k => k.Key, StringComparer.Ordinal).ToDictionary(),
            r.SuppressedTotal, r.Sent, r.Delivered, r.Failed, r.Pending, r.FailedByReason.OrderBy(k => k.Key, StringComparer.Ordinal).ToDictionary(),
            r.Expired, r.Ambiguous)), Options);

    public static IReadOnlyList<FunnelRow> Deserialize(string json) =>
        (JsonSerializer.Deserialize<List<Row>>(json, Options) ?? [])
            .Select(r => new FunnelRow(r.CampaignId, r.Qualified, r.Suppressed, r.Sent, r.Delivered, r.Failed, r.FailedByReason, r.Expired, r.Ambiguous))
            .ToList();
}
