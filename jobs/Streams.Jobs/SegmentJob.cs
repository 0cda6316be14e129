using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streams.Analytics;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Kafka;

namespace Streams.Jobs;

/// <summary>
/// Keeps the live path's <c>ref</c>s current: every <c>refresh</c> it evaluates each saved segment an active live
/// campaign names over the analytics store, and publishes to sms.memberships (compacted, keyed by user) the users
/// whose set of memberships changed since it last published, with the time of the evaluation. The live topology
/// keeps each user's latest set beside the profile. A membership is at most one refresh plus one evaluation old when
/// the topology reads it: never older than two refresh periods while the evaluation takes less than one.
/// </summary>
public sealed class SegmentJob(
    IAnalyticsStore store,
    Func<IReadOnlyList<(CampaignRecord Record, CampaignSpec Spec)>> campaigns,
    Func<IReadOnlyList<SavedSegment>> saved,
    IProducer<string, byte[]> producer,
    Topics topics,
    TimeProvider time,
    TimeSpan refresh,
    ILogger logger)
{
    public static readonly TimeSpan DefaultRefresh = TimeSpan.FromMinutes(5);

    private readonly Dictionary<string, string[]> _published = new(StringComparer.Ordinal);

    /// <summary>What was last published per user (from sms.memberships at start, then this job's own records).</summary>
    public void Restore(IEnumerable<Membership> records)
    {
        foreach (var m in records) _published[m.UserId] = [.. m.Segments.Order(StringComparer.Ordinal)];
    }

    /// <summary>The saved segments active live campaigns name (directly; refs inside them are expanded by the compiler).</summary>
    public static IReadOnlySet<string> Tracked(IEnumerable<(CampaignRecord Record, CampaignSpec Spec)> campaigns) =>
        campaigns.Where(c => c.Record.Status == CampaignStatus.Active && c.Spec.Type == CampaignType.Live)
            .SelectMany(c => Core.Segments.SegmentTree.Refs(c.Spec.Who.Segment)).ToHashSet(StringComparer.Ordinal);

    /// <summary>One evaluation: returns how many users' memberships changed (and were published).</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var segments = saved().ToDictionary(s => s.Id, s => s.Segment, StringComparer.Ordinal);
        var current = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var id in Tracked(campaigns()).Order(StringComparer.Ordinal))
        {
            if (!segments.TryGetValue(id, out var segment))
            {
                logger.LogWarning("a live campaign names saved segment {Segment}, which does not exist: nobody is in it", id);
                continue;
            }
            foreach (var user in await store.SegmentUsersAsync(segment, now, s => segments.GetValueOrDefault(s), ct))
            {
                if (!current.TryGetValue(user, out var list)) current[user] = list = [];
                list.Add(id);
            }
        }
        var changes = new List<Membership>();
        foreach (var (user, list) in current)
        {
            string[] set = [.. list.Order(StringComparer.Ordinal)];
            if (!_published.TryGetValue(user, out var before) || !before.SequenceEqual(set)) changes.Add(new Membership(user, set, now));
        }
        foreach (var (user, before) in _published)
        {
            if (before.Length > 0 && !current.ContainsKey(user)) changes.Add(new Membership(user, [], now));
        }
        foreach (var change in changes)
        {
            // Recorded as published only once Kafka has it: a failure midway leaves the rest to be found changed again.
            await topics.Memberships.ProduceAsync(producer, change.UserId, change, ct);
            _published[change.UserId] = [.. change.Segments];
        }
        if (changes.Count > 0) logger.LogInformation("segment job: {Changes} users' memberships changed", changes.Count);
        return changes.Count;
    }

    /// <summary>Evaluates at once, then every <c>refresh</c> on the clock, until stopped; a failed evaluation is tried at the next one.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            // A steady cadence on the clock: the next evaluation is due one refresh after this one started.
            var next = time.GetUtcNow() + refresh;
            try
            {
                await RunOnceAsync(ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("segment job: evaluation failed ({Error}); trying again at {Next}", e.Message, next);
            }
            var wait = next - time.GetUtcNow();
            if (wait <= TimeSpan.Zero) continue;
            try { await Task.Delay(wait, time, ct); }
            catch (OperationCanceledException) { return; }
        }
    }
}
