using Streams.Analytics;
using Streams.Core;
using Streams.Core.Campaigns;

namespace Streams.Jobs.Scheduling;

/// <summary>
/// <c>best_time</c>: each user's local hour in [from, to) where their events of the last <see cref="History"/> were
/// densest; a user with fewer than <see cref="MinEvents"/> such events in the window gets the hour most active across
/// the run's audience, else <c>from</c>. Events are counted per UTC quarter-hour and moved into each user's zone at
/// its current offset (a DST change inside the 90 days shifts that part of the history by an hour).
/// </summary>
public sealed record BestTimes(IReadOnlyDictionary<string, TimeOnly> Personal, TimeOnly Fallback, IReadOnlyDictionary<int, long> PlannedHours)
{
    public static readonly TimeSpan History = TimeSpan.FromDays(90);
    public const int MinEvents = 3;

    public TimeOnly HourOf(string userId) => Personal.TryGetValue(userId, out var h) ? h : Fallback;

    public static async Task<BestTimes> ComputeAsync(IAnalyticsStore store, CampaignSpec spec, SegmentNode segment, IReadOnlySet<string>? among,
        DateTimeOffset now, Func<string, SegmentNode?>? resolve, CancellationToken ct)
    {
        var best = spec.When!.BestTime!;
        var zones = new Dictionary<string, TimeZoneInfo>(StringComparer.Ordinal);
        foreach (var c in await store.SegmentContactsAsync(segment, now, resolve, ct))
        {
            if (among is null || among.Contains(c.UserId))
                zones[c.UserId] = Phones.UserTimeZone(c.Timezone.Length > 0 ? c.Timezone : null, Phones.Parse(c.Phone.Length > 0 ? c.Phone : null), spec.When.Timezone);
        }
        var perUser = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var a in await store.ActivityAsync(segment, best.Events, now - History, now, resolve, ct))
        {
            if (!zones.TryGetValue(a.UserId, out var zone)) continue;
            var offsetQuarters = (int)(zone.GetUtcOffset(now).TotalMinutes / 15);
            var localHour = ((a.Quarter + offsetQuarters) % 96 + 96) % 96 / 4;
            if (!perUser.TryGetValue(a.UserId, out var hours)) perUser[a.UserId] = hours = new long[24];
            hours[localHour] += a.Count;
        }
        var window = Enumerable.Range(best.From.Hour, best.To.Hour - best.From.Hour).ToList();
        var overall = new long[24];
        var personal = new Dictionary<string, TimeOnly>(StringComparer.Ordinal);
        foreach (var (user, hours) in perUser)
        {
            foreach (var h in window) overall[h] += hours[h];
            if (window.Sum(h => hours[h]) < MinEvents) continue;
            // Densest hour; the earliest of equals.
            personal[user] = new TimeOnly(window.OrderByDescending(h => hours[h]).ThenBy(h => h).First(), 0);
        }
        var fallback = overall.Any(n => n > 0) ? new TimeOnly(window.OrderByDescending(h => overall[h]).ThenBy(h => h).First(), 0) : best.From;
        var planned = zones.Keys.GroupBy(u => personal.TryGetValue(u, out var h) ? h.Hour : fallback.Hour).ToDictionary(g => g.Key, g => (long)g.Count());
        return new BestTimes(personal, fallback, planned);
    }
}
