using Microsoft.Extensions.Logging;
using Streams.Analytics.Segments;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Kafka;

namespace Streams.Pipeline;

/// <summary>Saved segments as code against sms.segments: one record per change, keyed by id, version counting up.</summary>
public sealed class SegmentClient(string bootstrap, Topics topics, TimeProvider time, ILogger logger)
{
    public sealed record Saved(CampaignRecord Record, SavedSegment Segment);

    /// <summary>The latest version of every saved segment.</summary>
    public IReadOnlyList<Saved> List()
    {
        var latest = new Dictionary<string, CampaignRecord>(StringComparer.Ordinal);
        using var timeout = new CancellationTokenSource(CampaignClient.ReadTimeout);
        foreach (var record in TopicReader.ReadToEnd(bootstrap, topics.Segments, logger, timeout.Token)) latest[record.Id] = record;
        return [.. latest.Values.OrderBy(r => r.Id, StringComparer.Ordinal)
            .Select(r => (r, CampaignSpecParser.ParseSegment(r.SpecJson)))
            .Where(p => p.Item2.IsValid)
            .Select(p => new Saved(p.r, p.Item2.Segment!))];
    }

    public Saved? Get(string id) => List().FirstOrDefault(s => s.Record.Id == id);

    /// <summary>Looks saved segments up by id, for <c>ref</c>.</summary>
    public static Func<string, SegmentNode?> Resolver(IReadOnlyList<Saved> saved)
    {
        var byId = saved.ToDictionary(s => s.Record.Id, s => s.Segment.Segment, StringComparer.Ordinal);
        return id => byId.GetValueOrDefault(id);
    }

    /// <summary>Whether a segment names saved segments (then they must be read from sms.segments to judge it).</summary>
    public static bool HasRefs(SegmentNode? node) => Core.Segments.SegmentTree.HasRefs(node);

    /// <summary>Every ref in <paramref name="segment"/> names a saved segment and none leads back to where it started.</summary>
    public static void CheckRefs(SegmentNode segment, Func<string, SegmentNode?> resolve, string path = "segment") =>
        SegmentSql.Users(segment, SqlDialect.DuckDb, DateTimeOffset.UnixEpoch, "", resolve, path);

    /// <summary>Validates (refs included, against the saved segments and the new one itself) and writes a new version when it changed.</summary>
    public async Task<(CampaignRecord Record, bool Changed)> ApplyAsync(string text)
    {
        var parsed = CampaignSpecParser.ParseSegment(text);
        if (!parsed.IsValid) throw new CampaignException("invalid segment: " + string.Join("; ", parsed.Problems));
        var segment = parsed.Segment!;
        var saved = List();
        var others = Resolver(saved);
        try
        {
            CheckRefs(segment.Segment, id => id == segment.Id ? segment.Segment : others(id));
        }
        catch (SegmentException e)
        {
            throw new CampaignException(e.Message);
        }
        var json = parsed.ToJson();
        var current = saved.FirstOrDefault(s => s.Record.Id == segment.Id);
        if (current is not null && current.Record.SpecJson == json) return (current.Record, false);
        var record = new CampaignRecord(segment.Id, (current?.Record.Version ?? 0) + 1, CampaignStatus.Active, json, time.GetUtcNow());
        using var producer = KafkaClients.Producer(bootstrap);
        await topics.Segments.ProduceAsync(producer, record.Id, record);
        return (record, true);
    }
}
