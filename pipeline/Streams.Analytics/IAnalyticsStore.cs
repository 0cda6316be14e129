using Streams.Core;

namespace Streams.Analytics;

/// <summary>One campaign's funnel, as `streams report` prints it.</summary>
public sealed record FunnelRow(
    string CampaignId,
    long Qualified,
    IReadOnlyDictionary<string, long> Suppressed,
    long Sent,
    long Delivered,
    long Failed,
    IReadOnlyDictionary<string, long>? FailedBy = null,
    long Expired = 0,
    long Ambiguous = 0)
{
    /// <summary>Why messages failed or were undelivered: the provider's reason or error code, by count.</summary>
    public IReadOnlyDictionary<string, long> FailedByReason => FailedBy ?? new Dictionary<string, long>();

    public long SuppressedTotal => Suppressed.Values.Sum();

    /// <summary>Requests with no terminal result yet (sent and awaiting a report, or in flight).</summary>
    public long Pending => Qualified - SuppressedTotal - Delivered - Failed - Expired - Ambiguous;
}

/// <summary>Where events, profiles and results land for analysts: ClickHouse, or an embedded DuckDB file with the same tables.</summary>
public interface IAnalyticsStore : IAsyncDisposable
{
    Task MigrateAsync(CancellationToken ct = default);
    Task InsertEventsAsync(IReadOnlyList<UserEvent> events, CancellationToken ct = default);
    Task InsertProfilesAsync(IReadOnlyList<ProfileUpdate> profiles, CancellationToken ct = default);
    Task InsertResultsAsync(IReadOnlyList<SmsResult> results, CancellationToken ct = default);
    Task<IReadOnlyList<FunnelRow>> FunnelAsync(string? campaignId = null, CancellationToken ct = default);

    /// <summary>Requests as they were asked for (sms.requests) and set to wait (sms.scheduled): what <c>streams why</c> tells.</summary>
    Task InsertRequestsAsync(IReadOnlyList<RequestRow> requests, CancellationToken ct = default);

    Task InsertConversionsAsync(IReadOnlyList<ConversionRecord> conversions, CancellationToken ct = default);

    /// <summary>The rows of every query a report runs (<see cref="Reports.ReportSql"/>).</summary>
    Task<Reports.ReportRows> ReportRowsAsync(Reports.ReportFilter filter, CancellationToken ct = default);

    /// <summary>One user's (or one request's) requests, results and conversions, oldest first.</summary>
    Task<Story> StoryAsync(string? campaignId, string? userId, string? requestId, CancellationToken ct = default);

    /// <summary>Records property names seen in events (per event name) and profiles: the catalog templates are checked against.</summary>
    Task InsertPropertiesAsync(IReadOnlyList<PropertyKey> keys, CancellationToken ct = default);

    Task<IReadOnlyList<PropertyKey>> KnownPropertiesAsync(CancellationToken ct = default);

    /// <summary>Every update of one user's profile, oldest first.</summary>
    Task<IReadOnlyList<ProfileUpdate>> ProfileUpdatesAsync(string userId, CancellationToken ct = default);

    /// <summary>The ids of a segment's members at <paramref name="now"/>, in order (one compiled query).</summary>
    /// <param name="resolve">Saved segments by id, for <c>ref</c>.</param>
    Task<IReadOnlyList<string>> SegmentUsersAsync(Core.Campaigns.SegmentNode segment, DateTimeOffset now, Func<string, Core.Campaigns.SegmentNode?>? resolve = null,
        CancellationToken ct = default);

    /// <summary>A segment's members with their phone and time zone ('' when their profile has none).</summary>
    Task<IReadOnlyList<Contact>> SegmentContactsAsync(Core.Campaigns.SegmentNode segment, DateTimeOffset now, Func<string, Core.Campaigns.SegmentNode?>? resolve = null,
        CancellationToken ct = default);

    /// <summary>Events of one name matching the conditions between two instants (both included).</summary>
    /// <param name="members">Only the events of this segment's members (null: everyone's).</param>
    Task<long> EventCountAsync(string name, IReadOnlyList<Core.Campaigns.Condition> where, DateTimeOffset from, DateTimeOffset to,
        Core.Campaigns.SegmentNode? members = null, Func<string, Core.Campaigns.SegmentNode?>? resolve = null, CancellationToken ct = default);

    /// <summary>
    /// Each member's profile, every update folded in time order as the live topology folds them, in user id order
    /// (members with no profile update are left out). Streamed: a run over a million users never holds them all.
    /// </summary>
    IAsyncEnumerable<Profile> SegmentProfilesAsync(Core.Campaigns.SegmentNode segment, DateTimeOffset now, Func<string, Core.Campaigns.SegmentNode?>? resolve = null,
        CancellationToken ct = default);

    /// <summary>The members' events (of these names; every event when none) between two instants, counted per user and UTC quarter-hour of the day (0-95).</summary>
    Task<IReadOnlyList<Activity>> ActivityAsync(Core.Campaigns.SegmentNode segment, IReadOnlyList<string> events, DateTimeOffset from, DateTimeOffset to,
        Func<string, Core.Campaigns.SegmentNode?>? resolve = null, CancellationToken ct = default);

    /// <summary>Sent and delivered requests of a campaign's runs, by run key (<see cref="RequestIds.RunKey"/>).</summary>
    Task<IReadOnlyDictionary<string, RunCounts>> RunCountsAsync(string campaignId, CancellationToken ct = default);

    /// <summary>How many users a segment holds at <paramref name="now"/>.</summary>
    Task<long> SegmentCountAsync(Core.Campaigns.SegmentNode segment, DateTimeOffset now, Func<string, Core.Campaigns.SegmentNode?>? resolve = null,
        CancellationToken ct = default);
}

/// <summary>A user with the phone, time zone and SMS opt-in of their latest profile updates that have one ('' or null when none).</summary>
public sealed record Contact(string UserId, string Phone, string Timezone, bool? OptIn = null)
{
    /// <summary>The opt-in as the contacts query spells it: '1', '0', or '' when no update set one.</summary>
    public static bool? OptInOf(string text) => text switch { "1" => true, "0" => false, _ => null };
}

public sealed record Activity(string UserId, int Quarter, long Count);

/// <summary>
/// A request as it was asked for (<see cref="DueAt"/> null: from sms.requests, <see cref="Ts"/> its creation) or set to wait
/// in sms.scheduled until <see cref="DueAt"/> for <see cref="Cause"/>.
/// </summary>
public sealed record RequestRow(string RequestId, string CampaignId, string UserId, string Trigger, DateTimeOffset? TriggerTs, DateTimeOffset Ts,
    DateTimeOffset? DueAt = null, string Cause = "")
{
    public static RequestRow Of(SmsRequest r) => new(r.RequestId, r.CampaignId, r.UserId, r.Context.EventName ?? "", r.Context.EventTs, r.CreatedAt);

    public static RequestRow Of(ScheduledRequest s) => Of(s.Request) with { DueAt = s.DueAt, Cause = s.Cause };
}

/// <summary>What <c>streams why</c> reads: requests, results and conversions, each oldest first.</summary>
public sealed record Story(IReadOnlyList<RequestRow> Requests, IReadOnlyList<SmsResult> Results, IReadOnlyList<ConversionRecord> Conversions);

public sealed record RunCounts(long Sent, long Delivered);

/// <summary>Folds a user's profile rows (in time order) into profiles, one per user, for stores that read rows in user order.</summary>
public static class ProfileFold
{
    public static async IAsyncEnumerable<Profile> Fold(IAsyncEnumerable<ProfileUpdate> rows)
    {
        Profile? current = null;
        await foreach (var row in rows)
        {
            if (current is not null && current.UserId != row.UserId)
            {
                yield return current;
                current = null;
            }
            current = (current ?? Profile.Empty(row.UserId)).Merge(row);
        }
        if (current is not null) yield return current;
    }
}

/// <summary>A property name seen in the data: kind "profile" (event empty) or "event" with the event's name.</summary>
public sealed record PropertyKey(string Kind, string Event, string Name)
{
    public static IEnumerable<PropertyKey> Of(UserEvent e) => e.Props.Keys.Select(k => new PropertyKey("event", e.Name, k));
    public static IEnumerable<PropertyKey> Of(ProfileUpdate p) => (p.Props ?? Props.Empty).Keys.Select(k => new PropertyKey("profile", "", k));
}

/// <summary>Both stores answer the funnel from the same per-(campaign, status, reason) distinct request counts.</summary>
public static class Funnel
{
    public sealed record StatusCount(string CampaignId, string Status, string Reason, long Requests);

    public static IReadOnlyList<FunnelRow> Build(IEnumerable<(string CampaignId, long Qualified)> qualified, IReadOnlyList<StatusCount> counts)
    {
        var rows = new List<FunnelRow>();
        foreach (var (campaign, total) in qualified.OrderBy(q => q.CampaignId, StringComparer.Ordinal))
        {
            var mine = counts.Where(c => c.CampaignId == campaign).ToList();
            long Count(params string[] statuses) => mine.Where(c => statuses.Contains(c.Status)).Sum(c => c.Requests);
            var suppressed = mine.Where(c => c.Status == ResultStatus.Suppressed)
                .GroupBy(c => c.Reason)
                .ToDictionary(g => g.Key, g => g.Sum(c => c.Requests));
            var failedBy = mine.Where(c => c.Status is ResultStatus.Failed or ResultStatus.Undelivered)
                .GroupBy(c => c.Reason.Length == 0 ? "(no reason given)" : c.Reason)
                .ToDictionary(g => g.Key, g => g.Sum(c => c.Requests));
            rows.Add(new FunnelRow(campaign, total, suppressed, Count(ResultStatus.Sent), Count(ResultStatus.Delivered),
                Count(ResultStatus.Failed, ResultStatus.Undelivered), failedBy, Count(ResultStatus.Expired), Count(ResultStatus.Ambiguous)));
        }
        return rows;
    }

    public static string PropsJson(IReadOnlyDictionary<string, object?> props) =>
        System.Text.Json.JsonSerializer.Serialize(props);

    /// <summary>
    /// A stored property bag back as values (string, long, double, bool; nested values as null). Read with a
    /// Utf8JsonReader, not a JsonDocument: a scheduled run reads a million of these.
    /// </summary>
    public static IReadOnlyDictionary<string, object?> PropsFromJson(string json)
    {
        if (json.Length == 0 || json == "{}") return Props.Empty;
        var max = System.Text.Encoding.UTF8.GetMaxByteCount(json.Length);
        byte[]? rented = null;
        Span<byte> buffer = max <= 512 ? stackalloc byte[512] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var reader = new System.Text.Json.Utf8JsonReader(buffer[..System.Text.Encoding.UTF8.GetBytes(json, buffer)]);
            var map = new Dictionary<string, object?>();
            if (!reader.Read() || reader.TokenType != System.Text.Json.JsonTokenType.StartObject) return map;
            while (reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.PropertyName)
            {
                var name = reader.GetString()!;
                reader.Read();
                switch (reader.TokenType)
                {
                    case System.Text.Json.JsonTokenType.String: map[name] = reader.GetString(); break;
                    case System.Text.Json.JsonTokenType.Number: map[name] = reader.TryGetInt64(out var l) ? (object)l : reader.GetDouble(); break;
                    case System.Text.Json.JsonTokenType.True: map[name] = true; break;
                    case System.Text.Json.JsonTokenType.False: map[name] = false; break;
                    default:
                        reader.Skip();
                        map[name] = null;
                        break;
                }
            }
            return map;
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
