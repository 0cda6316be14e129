using Microsoft.Extensions.Logging;
using Streams.Analytics;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Core.Schedules;

namespace Streams.Jobs.Scheduling;

/// <summary>
/// The scheduler role's work at each tick, when this scheduler owns sms.runs: for every active scheduled campaign,
/// runs released or left half-planned are planned (resumed after their cursor), and each occurrence come due
/// becomes a run: planned, or held past the safety limit, or skipped when it was missed by more than max_lateness.
/// Runs are planned one at a time, in occurrence order.
/// </summary>
public sealed class Scheduler(
    IAnalyticsStore store,
    Func<IReadOnlyList<(CampaignRecord Record, CampaignSpec Spec)>> campaigns,
    Func<IReadOnlyList<SavedSegment>> saved,
    IRunLog runs,
    IRunOutput output,
    IAlerts alerts,
    TimeProvider time,
    ILogger logger)
{
    public static readonly TimeSpan DefaultTick = TimeSpan.FromSeconds(1);

    public int CheckpointEvery { get; init; } = 10_000;

    /// <summary>Plans whatever is due now; returns the runs it acted on.</summary>
    public async Task<IReadOnlyList<RunRecord>> TickAsync(CancellationToken ct)
    {
        var acted = new List<RunRecord>();
        if (!runs.IsOwner) return acted;
        // Saved segments are read only when a run is to be planned (a tick with nothing due reads nothing).
        var segments = new Lazy<Dictionary<string, SegmentNode>>(() => saved().ToDictionary(s => s.Id, s => s.Segment, StringComparer.Ordinal));
        SegmentNode? Resolve(string id) => segments.Value.GetValueOrDefault(id);
        foreach (var (record, spec) in campaigns().Where(c => c.Spec.Type == CampaignType.Scheduled && c.Record.Status == CampaignStatus.Active))
        {
            if (ct.IsCancellationRequested || !runs.IsOwner) return acted;
            try
            {
                if (!await CampaignAsync(record, spec, Resolve, acted, ct)) return acted;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One campaign that cannot be planned (a query that fails, Kafka refusing) does not hold up the others.
                logger.LogWarning("scheduler: campaign {Campaign} could not be planned ({Error}); trying again at the next tick", spec.Id, e.Message);
            }
        }
        return acted;
    }

    /// <summary>One campaign's due runs; false when this scheduler must stop (ownership lost).</summary>
    private async Task<bool> CampaignAsync(CampaignRecord record, CampaignSpec spec, Func<string, SegmentNode?> resolve, List<RunRecord> acted, CancellationToken ct)
    {
        var schedule = new Schedule(spec, record.UpdatedAt);
        var now = time.GetUtcNow();
        var mine = runs.Runs.Where(r => r.CampaignId == spec.Id).ToList();
        var work = new List<(Occurrence, RunRecord, bool Released)>();
        foreach (var run in mine.Where(r => r.Status is RunStatus.Releasing or RunStatus.Planned).OrderBy(r => r.Occurrence))
            work.Add((new Occurrence(run.RunId, run.Occurrence, schedule.LocalOf(run)), run, run.Status == RunStatus.Releasing || run.Reason == RunStatus.Approved));
        foreach (var o in schedule.Between(schedule.LookFrom, now))
        {
            if (runs.Get(o.RunId) is not null || PlannedBefore(schedule, spec, mine, o)) continue;
            var fresh = new RunRecord(o.RunId, spec.Id, record.Version, o.At, RunStatus.Planned, now);
            if (now - schedule.LastStart(o) > schedule.MaxLateness)
            {
                var skipped = fresh with { Status = RunStatus.Skipped, Reason = $"missed: no scheduler ran within max_lateness {Durations.Format(schedule.MaxLateness)} of {o.At.UtcDateTime:yyyy-MM-dd HH:mm}Z" };
                logger.LogWarning("run {Run} skipped: {Reason}", o.RunId, skipped.Reason);
                if (!await runs.SaveAsync(skipped, ct)) return false;
                acted.Add(skipped);
                continue;
            }
            work.Add((o, fresh, false));
        }
        foreach (var (occurrence, run, released) in work)
        {
            if (ct.IsCancellationRequested || !runs.IsOwner) return false;
            var planner = new RunPlanner(store, output, time, logger) { CheckpointEvery = CheckpointEvery };
            var plan = new RunPlan(record, spec, schedule, occurrence, run, released);
            var result = await planner.PlanAsync(plan, resolve, SaveUnlessStoppedAsync, ct);
            if (result.Status == RunStatus.Held)
            {
                if (!await runs.SaveAsync(result, ct)) return false;
                await alerts.RaiseAsync(new Alert(Alert.SafetyHold, spec.Id, result.RunId, result.Reason!, time.GetUtcNow()),
                    new Dictionary<string, object?> { ["audience"] = result.Qualified, ["limit"] = spec.Who.Reach!.SafetyLimit }, ct);
            }
            acted.Add(result);
        }
        return true;
    }

    /// <summary>
    /// A per-user run's id comes from when it is planned, which an edit moves (best_time.from): a run already made for
    /// the same wall time (best time: the same day) is that occurrence, so re-applying the campaign does not send again.
    /// </summary>
    private static bool PlannedBefore(Schedule schedule, CampaignSpec spec, IReadOnlyList<RunRecord> mine, Occurrence o) =>
        schedule.PerUser && mine.Any(r => spec.When?.BestTime is not null
            ? schedule.LocalOf(r).Date == o.Local.Date
            : schedule.LocalOf(r) == o.Local);

    /// <summary>
    /// A run stopped by an operator (skipped) while planned stops its planner at the next checkpoint; the stop is written
    /// again, so it is the run's last record even if a checkpoint written before it was read landed after it.
    /// </summary>
    private async Task<bool> SaveUnlessStoppedAsync(RunRecord run)
    {
        if (runs.Get(run.RunId) is { Status: RunStatus.Skipped } stopped)
        {
            await runs.SaveAsync(stopped with { UpdatedAt = time.GetUtcNow() }, CancellationToken.None);
            return false;
        }
        return await runs.SaveAsync(run, CancellationToken.None);
    }

    /// <summary>Ticks until stopped.</summary>
    public async Task RunAsync(TimeSpan tick, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await TickAsync(ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("scheduler: a tick failed ({Error}); trying again at the next", e.Message);
            }
            try { await Task.Delay(tick, time, ct); }
            catch (OperationCanceledException) { return; }
        }
    }
}
