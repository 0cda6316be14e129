using Streams.Core;

namespace Streams.Analytics.Reports;

public sealed record CostRow(string CampaignId, string Encoding, long Messages, long Segments);
public sealed record QuarterRow(string CampaignId, string Status, long Quarter, long Requests);
/// <summary>A cohort's exposures (or conversions) of one campaign: as requests, as distinct users, and their revenue.</summary>
public sealed record CohortRow(string CampaignId, string Cohort, long Requests, long Users, double Revenue);

/// <summary>The rows of a report's queries (<see cref="ReportSql"/>), as a store returns them.</summary>
public sealed record ReportRows(
    IReadOnlyList<(string CampaignId, long Requests)> Qualified,
    IReadOnlyList<Funnel.StatusCount> Statuses,
    IReadOnlyList<CostRow> Costs,
    IReadOnlyList<QuarterRow> Daily,
    IReadOnlyList<CohortRow> Exposures,
    IReadOnlyList<CohortRow> Conversions,
    IReadOnlyList<QuarterRow> DailyConversions);

public sealed record DayRow(DateOnly Day, long Sent, long Delivered, long Converted);

public sealed record Cost(string Encoding, long Messages, long Segments);

/// <summary>
/// One campaign's report: the funnel to conversions (<see cref="Converted"/>: treatment requests that converted), rates
/// (the conversion rate is of users, as the lift's), cost units, days in the campaign's zone, and lift.
/// </summary>
public sealed record CampaignReport(
    string CampaignId,
    string Zone,
    FunnelRow Funnel,
    long Converted,
    double Revenue,
    double? DeliveryRate,
    double? ConversionRate,
    IReadOnlyList<Cost> Costs,
    IReadOnlyList<DayRow> Days,
    Lift Lift,
    Arm GlobalControl,
    string? Goal = null)
{
    public long Segments => Costs.Sum(c => c.Segments);
}

public sealed record Report(ReportFilter Filter, DateTimeOffset At, IReadOnlyList<CampaignReport> Campaigns)
{
    /// <param name="specOf">The campaign's spec: its time zone (its days are local days there; UTC when it has none) and its goal.</param>
    public static Report Build(ReportRows rows, ReportFilter filter, DateTimeOffset at, Func<string, Core.Campaigns.CampaignSpec?> specOf)
    {
        var funnels = Funnel.Build(rows.Qualified, rows.Statuses);
        var campaigns = new List<CampaignReport>();
        foreach (var funnel in funnels)
        {
            var id = funnel.CampaignId;
            var spec = specOf(id);
            var zone = Core.Schedules.Zones.Find(spec?.When?.Timezone) ?? TimeZoneInfo.Utc;
            var goal = spec?.Goal?.Conversion is { } g ? $"{g.Event} within {Core.Campaigns.Durations.Format(g.Within)}" : null;
            // The groups are drawn per user, so they are compared per user: a user exposed three times is one trial.
            Arm ArmOf(string cohort)
            {
                var exposed = rows.Exposures.Where(r => r.CampaignId == id && r.Cohort == cohort).Sum(r => r.Users);
                var converted = rows.Conversions.Where(r => r.CampaignId == id && r.Cohort == cohort).ToList();
                return new Arm(exposed, converted.Sum(r => r.Users), converted.Sum(r => r.Revenue));
            }
            var treatment = ArmOf(ExposureGroup.Treatment);
            var convertedRequests = rows.Conversions.Where(r => r.CampaignId == id && r.Cohort == ExposureGroup.Treatment).Sum(r => r.Requests);
            DateOnly Local(long quarter) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeSeconds(quarter), zone).DateTime);
            var daily = rows.Daily.Where(r => r.CampaignId == id).Select(r => (Day: Local(r.Quarter), r.Status, r.Requests))
                .Concat(rows.DailyConversions.Where(r => r.CampaignId == id).Select(r => (Day: Local(r.Quarter), Status: "converted", r.Requests)))
                .GroupBy(r => r.Day)
                .OrderBy(g => g.Key)
                .Select(g => new DayRow(g.Key, Sum(g, ResultStatus.Sent), Sum(g, ResultStatus.Delivered), Sum(g, "converted")))
                .ToList();
            campaigns.Add(new CampaignReport(id, zone.Id, funnel, convertedRequests, treatment.Revenue,
                funnel.Sent == 0 ? null : (double)funnel.Delivered / funnel.Sent, goal is null && treatment.Converted == 0 ? null : treatment.Rate,
                rows.Costs.Where(c => c.CampaignId == id).OrderBy(c => c.Encoding, StringComparer.Ordinal).Select(c => new Cost(c.Encoding, c.Messages, c.Segments)).ToList(),
                daily, Lift.Of(treatment, ArmOf(ExposureGroup.Control)), ArmOf(ExposureGroup.GlobalControl), goal));
        }
        return new Report(filter, at, campaigns);
    }

    private static long Sum(IEnumerable<(DateOnly Day, string Status, long Requests)> rows, string status) =>
        rows.Where(r => r.Status == status).Sum(r => r.Requests);
}

public static class Reporting
{
    public static async Task<Report> LoadAsync(IAnalyticsStore store, ReportFilter filter, Func<string, Core.Campaigns.CampaignSpec?> specOf, DateTimeOffset now,
        CancellationToken ct = default) =>
        Report.Build(await store.ReportRowsAsync(filter, ct), filter, now, specOf);
}
