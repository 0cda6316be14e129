using System.Globalization;
using Streams.Analytics.Segments;
using Streams.Core;

namespace Streams.Analytics.Reports;

/// <summary>What a report covers: one campaign or all, one run (by its key) or all, results between two instants.</summary>
public sealed record ReportFilter(string? CampaignId = null, string? RunKey = null, DateTimeOffset? From = null, DateTimeOffset? To = null);

/// <summary>
/// Every query a report runs, in both dialects: docs/analysts.md prints the ClickHouse text of each (a test keeps the
/// two the same). Counts are distinct request ids, so a result stored twice (at-least-once) counts once.
/// Days are built from UTC quarter-hours: every time zone's offset is a whole number of quarter-hours, so a
/// campaign's local days are sums of them.
/// </summary>
public sealed class ReportSql(SqlDialect dialect, string tables = "")
{
    private bool Ch => dialect == SqlDialect.ClickHouse;

    /// <summary>Requests per campaign, status and reason: the funnel (and qualified = distinct requests of the campaign).</summary>
    public string Statuses(ReportFilter f) => Ch
        ? $"SELECT campaign_id, status, reason, toInt64(uniqExact(request_id)) AS n FROM {tables}results WHERE {Where(f, "ts")} GROUP BY campaign_id, status, reason"
        : $"SELECT campaign_id, status, reason, CAST(count(DISTINCT request_id) AS BIGINT) AS n FROM {tables}results WHERE {Where(f, "ts")} GROUP BY ALL";

    public string Qualified(ReportFilter f) => Ch
        ? $"SELECT campaign_id, toInt64(uniqExact(request_id)) AS n FROM {tables}results WHERE {Where(f, "ts")} GROUP BY campaign_id"
        : $"SELECT campaign_id, CAST(count(DISTINCT request_id) AS BIGINT) AS n FROM {tables}results WHERE {Where(f, "ts")} GROUP BY ALL";

    /// <summary>Sent messages and their segments (the cost units) per encoding.</summary>
    public string Costs(ReportFilter f) => Ch
        ? $"SELECT campaign_id, encoding, toInt64(count()) AS messages, toInt64(sum(segments)) AS segments FROM (SELECT campaign_id, request_id, any(encoding) AS encoding, max(segments) AS segments FROM {tables}results WHERE status = 'sent' AND {Where(f, "ts")} GROUP BY campaign_id, request_id) GROUP BY campaign_id, encoding"
        : $"SELECT campaign_id, encoding, CAST(count(*) AS BIGINT) AS messages, CAST(sum(segments) AS BIGINT) AS segments FROM (SELECT campaign_id, request_id, any_value(encoding) AS encoding, max(segments) AS segments FROM {tables}results WHERE status = 'sent' AND {Where(f, "ts")} GROUP BY campaign_id, request_id) GROUP BY ALL";

    /// <summary>
    /// Sent and delivered requests per UTC quarter-hour (epoch seconds). ClickHouse reads the campaign_daily summary its
    /// materialized view keeps; a report of one run needs request ids, so it reads results.
    /// </summary>
    public string Daily(ReportFilter f) => Ch
        ? f.RunKey is null
            ? $"SELECT campaign_id, status, toInt64(toUnixTimestamp(quarter)) AS q, toInt64(uniqExactMerge(requests)) AS n FROM {tables}campaign_daily WHERE status IN ('sent', 'delivered') AND {Where(f, "quarter")} GROUP BY campaign_id, status, quarter"
            : $"SELECT campaign_id, status, toInt64(toUnixTimestamp(toStartOfFifteenMinutes(ts))) AS q, toInt64(uniqExact(request_id)) AS n FROM {tables}results WHERE status IN ('sent', 'delivered') AND {Where(f, "ts")} GROUP BY campaign_id, status, q"
        : $"SELECT campaign_id, status, CAST(epoch(time_bucket(INTERVAL 15 MINUTE, ts)) AS BIGINT) AS q, CAST(count(DISTINCT request_id) AS BIGINT) AS n FROM {tables}results WHERE status IN ('sent', 'delivered') AND {Where(f, "ts")} GROUP BY ALL";

    /// <summary>
    /// Exposures per cohort: treatment (handed to the provider), control and global control (held out at that moment);
    /// as requests, and as users (the unit the groups are drawn by, and the one lift compares).
    /// </summary>
    public string Exposures(ReportFilter f) => Ch
        ? $"SELECT campaign_id, cohort, toInt64(uniqExact(request_id)) AS n, toInt64(uniqExact(user_id)) AS users FROM {tables}exposures WHERE {Where(f, "ts")} GROUP BY campaign_id, cohort"
        : $"SELECT campaign_id, cohort, CAST(count(DISTINCT request_id) AS BIGINT) AS n, CAST(count(DISTINCT user_id) AS BIGINT) AS users FROM {tables}exposures WHERE {Where(f, "ts")} GROUP BY ALL";

    /// <summary>Converted exposures (one conversion per exposure), the users who converted, and the revenue, per cohort.</summary>
    public string Conversions(ReportFilter f) => Ch
        ? $"SELECT campaign_id, cohort, toInt64(count()) AS n, toInt64(uniqExact(user_id)) AS users, sum(value) AS revenue FROM (SELECT campaign_id, request_id, any(cohort) AS cohort, any(user_id) AS user_id, any(value) AS value FROM {tables}conversions WHERE {Where(f, "exposed_at")} GROUP BY campaign_id, request_id) GROUP BY campaign_id, cohort"
        : $"SELECT campaign_id, cohort, CAST(count(*) AS BIGINT) AS n, CAST(count(DISTINCT user_id) AS BIGINT) AS users, CAST(sum(value) AS DOUBLE) AS revenue FROM (SELECT campaign_id, request_id, any_value(cohort) AS cohort, any_value(user_id) AS user_id, any_value(value) AS value FROM {tables}conversions WHERE {Where(f, "exposed_at")} GROUP BY campaign_id, request_id) GROUP BY ALL";

    /// <summary>Treatment conversions per UTC quarter-hour of the goal event.</summary>
    public string DailyConversions(ReportFilter f) => Ch
        ? $"SELECT campaign_id, toInt64(toUnixTimestamp(toStartOfFifteenMinutes(t))) AS q, toInt64(count()) AS n FROM (SELECT campaign_id, request_id, min(ts) AS t FROM {tables}conversions WHERE cohort = 'treatment' AND {Where(f, "exposed_at")} GROUP BY campaign_id, request_id) GROUP BY campaign_id, q"
        : $"SELECT campaign_id, CAST(epoch(time_bucket(INTERVAL 15 MINUTE, t)) AS BIGINT) AS q, CAST(count(*) AS BIGINT) AS n FROM (SELECT campaign_id, request_id, min(ts) AS t FROM {tables}conversions WHERE cohort = 'treatment' AND {Where(f, "exposed_at")} GROUP BY campaign_id, request_id) GROUP BY ALL";

    /// <summary>The queries in the order docs/analysts.md shows them.</summary>
    public IReadOnlyList<(string Name, string Sql)> All(ReportFilter f) =>
    [
        ("qualified", Qualified(f)), ("statuses", Statuses(f)), ("costs", Costs(f)), ("daily", Daily(f)),
        ("exposures", Exposures(f)), ("conversions", Conversions(f)), ("daily_conversions", DailyConversions(f)),
    ];

    private string Where(ReportFilter f, string time)
    {
        var parts = new List<string>();
        if (f.CampaignId is { } c) parts.Add($"campaign_id = {Literal(c)}");
        // campaign_daily has no request ids; a run filter never reaches it (Daily reads results then).
        if (f.RunKey is { } run && time != "quarter") parts.Add($"substring(request_id, 1, {RequestIds.RunKeyLength + 1}) = {Literal(run + "-")}");
        if (f.From is { } from) parts.Add($"{time} >= {Instant(from)}");
        if (f.To is { } to) parts.Add($"{time} < {Instant(to)}");
        return parts.Count == 0 ? "1 = 1" : string.Join(" AND ", parts);
    }

    private string Instant(DateTimeOffset t)
    {
        var text = t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        return Ch ? $"toDateTime('{text}', 'UTC')" : $"TIMESTAMP '{text}'";
    }

    private string Literal(string value) => Ch ? ClickHouseStore.Literal(value) : "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
