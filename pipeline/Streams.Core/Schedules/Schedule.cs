using System.Globalization;
using Cronos;
using Streams.Core.Campaigns;

namespace Streams.Core.Schedules;

/// <summary>
/// One occurrence of a scheduled campaign: a run. <see cref="At"/> is when the run is planned; <see cref="Local"/> the
/// wall time it is for. In the campaign's zone the two are the same moment. With user-zone delivery or best time a
/// run is planned when its wall time first comes anywhere on earth (UTC+14) and each user's request waits for their
/// own local time.
/// </summary>
public sealed record Occurrence(string RunId, DateTimeOffset At, DateTime Local);

/// <summary>The runs of a scheduled campaign's <c>when</c>, from <c>at</c> (or <c>now</c>) or <c>every</c>.</summary>
public sealed class Schedule
{
    /// <summary>The earliest zone on earth: a wall time comes here first.</summary>
    public static readonly TimeZoneInfo EarliestZone = TimeZoneInfo.CreateCustomTimeZone("UTC+14", TimeSpan.FromHours(14), "UTC+14", "UTC+14");

    /// <summary>How long before a wall time reaches UTC a per-user run is planned (the lead).</summary>
    public static readonly TimeSpan Lead = TimeSpan.FromHours(14);

    public static readonly TimeSpan DefaultMaxLateness = TimeSpan.FromHours(1);
    public static readonly Late DefaultLate = new(TimeSpan.FromHours(1), LateAction.Skip);

    private readonly string _campaignId;
    private readonly When _when;
    private readonly DateTimeOffset _appliedAt;
    private readonly CronExpression? _cron;

    public Schedule(CampaignSpec spec, DateTimeOffset appliedAt)
    {
        _campaignId = spec.Id;
        _when = spec.When ?? new When();
        _appliedAt = appliedAt;
        _cron = _when.Every is { } every ? CronExpression.Parse(every.Cron) : null;
        Zone = Zones.Find(_when.Timezone) ?? TimeZoneInfo.Utc;
        PerUser = _when.DeliverIn == DeliverIn.UserTimezone || _when.BestTime is not null;
    }

    /// <summary>The campaign's zone (UTC when it names none).</summary>
    public TimeZoneInfo Zone { get; }

    /// <summary>Each user at their own local time (user_timezone or best_time): requests wait in sms.scheduled.</summary>
    public bool PerUser { get; }

    public TimeSpan MaxLateness => _when.MaxLateness ?? DefaultMaxLateness;

    public Late Late => _when.Late ?? DefaultLate;

    /// <summary>The zone wall times are read in: the campaign's, or the earliest on earth for per-user runs.</summary>
    public TimeZoneInfo Reference => PerUser ? EarliestZone : Zone;

    /// <summary>Occurrences with <paramref name="after"/> &lt; At ≤ <paramref name="until"/>, in order (<c>at</c> and <c>every</c> together give both).</summary>
    public IEnumerable<Occurrence> Between(DateTimeOffset after, DateTimeOffset until) =>
        Unordered(after, until).DistinctBy(o => o.RunId).OrderBy(o => o.At);

    private IEnumerable<Occurrence> Unordered(DateTimeOffset after, DateTimeOffset until)
    {
        if (_when.AtNow)
        {
            if (_appliedAt > after && _appliedAt <= until) yield return new Occurrence($"{_campaignId}@now", _appliedAt, TimeZoneInfo.ConvertTime(_appliedAt, Zone).DateTime);
            yield break;
        }
        foreach (var local in _when.At.Order())
        {
            var o = Of(local);
            if (o.At > after && o.At <= until) yield return o;
        }
        if (_cron is null || until <= after) yield break;
        // A best-time run is planned at `from` on its cron day, up to a day before or after the cron time itself.
        var slack = _when.BestTime is null ? TimeSpan.Zero : TimeSpan.FromDays(1);
        foreach (var utc in _cron.GetOccurrences((after - slack).UtcDateTime, (until + slack).UtcDateTime, Reference, fromInclusive: false, toInclusive: true))
        {
            var local = TimeZoneInfo.ConvertTimeFromUtc(utc, Reference);
            if (_when.Every!.Until is { } last && DateOnly.FromDateTime(local) > last) yield break;
            // Cronos's instant, not the wall time read back: a wall time that happens twice (DST ends) fires once, at its first.
            var o = _when.BestTime is null ? Named(new DateTimeOffset(utc, TimeSpan.Zero), local) : Of(local);
            if (o.At > after && o.At <= until) yield return o;
        }
    }

    /// <summary>The occurrence for a wall time in the reference zone.</summary>
    public Occurrence Of(DateTime local)
    {
        var runLocal = _when.BestTime is { } best ? local.Date + best.From.ToTimeSpan() : local;
        return Named(Timestamps.AtLocal(runLocal, Reference), local);
    }

    private Occurrence Named(DateTimeOffset at, DateTime local) =>
        new($"{_campaignId}@{at.UtcDateTime.ToString("yyyyMMdd'T'HHmm'Z'", CultureInfo.InvariantCulture)}", at, local);

    /// <summary>
    /// The latest instant a run may start and still reach someone on time: its own time, or for per-user runs when its
    /// wall time comes to the last zone on earth (UTC-12). A run missed past this plus max_lateness is skipped.
    /// </summary>
    public DateTimeOffset LastStart(Occurrence o) => PerUser ? o.At + Lead + TimeSpan.FromHours(12) : o.At;

    /// <summary>Where to look for occurrences not yet run: from the version's apply (a day and more before it for per-user runs, whose wall time may still be ahead somewhere).</summary>
    public DateTimeOffset LookFrom => _appliedAt - (PerUser ? Lead + TimeSpan.FromHours(12) : TimeSpan.Zero) - TimeSpan.FromTicks(1);

    /// <summary>What makes a scheduled campaign unable to run from <paramref name="now"/>: an <c>at</c> already past everywhere it is for, an <c>until</c> already past.</summary>
    public static IReadOnlyList<SpecProblem> PastProblems(CampaignSpec spec, DateTimeOffset now)
    {
        var problems = new List<SpecProblem>();
        if (spec.Type != CampaignType.Scheduled || spec.When is not { } when) return problems;
        var schedule = new Schedule(spec, now);
        for (var i = 0; i < when.At.Count; i++)
        {
            var o = schedule.Of(when.At[i]);
            if (schedule.LastStart(o) < now)
            {
                var where = schedule.PerUser ? "in every time zone" : $"in {schedule.Zone.Id}";
                problems.Add(new SpecProblem($"when.at[{i}]", $"{when.At[i]:yyyy-MM-dd'T'HH:mm} {where} is in the past (now {now.UtcDateTime:yyyy-MM-dd'T'HH:mm}Z)"));
            }
        }
        if (when.Every?.Until is { } until && !schedule.Between(now, Timestamps.AtLocal(until.ToDateTime(TimeOnly.MaxValue), schedule.Reference)).Any())
            problems.Add(new SpecProblem("when.every.until", $"{until:yyyy-MM-dd}: no occurrence of '{when.Every.Cron}' is left before it"));
        return problems;
    }

    /// <summary>The wall time a recorded run is for.</summary>
    public DateTime LocalOf(RunRecord run) =>
        TimeZoneInfo.ConvertTime(run.Occurrence, _when.AtNow || !PerUser ? Zone : EarliestZone).DateTime;

    /// <summary>When a user in <paramref name="zone"/> is due for this occurrence: the wall time in their zone (best time: <paramref name="hour"/> of its day).</summary>
    public static DateTimeOffset DueIn(Occurrence o, TimeZoneInfo zone, TimeOnly? hour = null) =>
        Timestamps.AtLocal(hour is { } h ? o.Local.Date + h.ToTimeSpan() : o.Local, zone);
}

public static class Zones
{
    public static TimeZoneInfo? Find(string? id) => id is not null && TimeZoneInfo.TryFindSystemTimeZoneById(id, out var z) ? z : null;
}
