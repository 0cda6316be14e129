using Microsoft.Extensions.Logging;
using Streams.Analytics;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Core.Schedules;

namespace Streams.Jobs.Scheduling;

/// <summary>What a run is planned for: the campaign version, its schedule, and the run's record so far.</summary>
public sealed record RunPlan(CampaignRecord Campaign, CampaignSpec Spec, Schedule Schedule, Occurrence Occurrence, RunRecord Run, bool Released);

/// <summary>
/// Plans one run: evaluates the audience with the segment compiler, holds it when it passes <c>safety_limit</c>,
/// draws percent, limit and run_limit, and produces one request per chosen user (ids from run and user) in user id
/// order. Every <see cref="CheckpointEvery"/> users it waits for Kafka to have them and records the last user in the
/// run's cursor, so a planner that dies resumes after it, and one stopped (SIGTERM) checkpoints before it goes.
/// The safety check is made whenever a run that was not approved is (re)planned; an approved run keeps
/// <see cref="RunStatus.Approved"/> as its reason so a resumed plan does not hold it again.
/// Per-user runs put each request in sms.scheduled for the user's own local time (late zones follow when.late).
/// </summary>
public sealed class RunPlanner(IAnalyticsStore store, IRunOutput output, TimeProvider time, ILogger logger)
{
    public int CheckpointEvery { get; init; } = 10_000;

    /// <param name="save">Records the run's state in sms.runs; returns false when the planner must stop (it lost ownership, or the run was stopped).</param>
    public async Task<RunRecord> PlanAsync(RunPlan plan, Func<string, SegmentNode?> resolve, Func<RunRecord, Task<bool>> save, CancellationToken ct)
    {
        var (campaign, spec, schedule, occurrence, run, released) = plan;
        var now = time.GetUtcNow();
        var segment = spec.Who.Segment ?? new AllOf([]);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var qualified = await store.SegmentUsersAsync(segment, now, resolve, ct);
        var audienceTime = clock.Elapsed;
        var safety = spec.Who.Reach?.SafetyLimit;
        if (!released && safety is { } limit && qualified.Count > limit)
        {
            return run with
            {
                Status = RunStatus.Held, UpdatedAt = now, Qualified = qualified.Count,
                Reason = $"{qualified.Count} qualified users exceed safety_limit {limit}: approve with `streams campaign approve {spec.Id} --run {run.RunId}`",
            };
        }
        var selection = RunSelection.Of(qualified, spec, run.RunId);
        var best = spec.When?.BestTime is not null ? await BestTimes.ComputeAsync(store, spec, segment, selection.Chosen, now, resolve, ct) : null;
        var late = schedule.Late;
        var zones = new Dictionary<string, long>(run.Zones ?? new Dictionary<string, long>(), StringComparer.Ordinal);
        // What this plan produces lies past these marks; a run resumed before its first checkpoint reads from them.
        var ends = await output.EndsAsync(ct);
        var previous = run.Marks;
        run = run with
        {
            Status = RunStatus.Planned, UpdatedAt = now, Qualified = qualified.Count, NotSampled = selection.NotSampled, OverLimit = selection.OverLimit,
            Reason = released ? RunStatus.Approved : null, Marks = previous ?? ends,
        };
        if (!await save(run)) return run;

        var resumeAfter = run.Cursor;
        var runKey = RequestIds.RunKey(run.RunId);
        var (planned, lateSkipped) = (run.Planned, run.LateSkipped);
        // What the planner before this one produced after its last checkpoint is already in Kafka: not again.
        var already = previous is not null
            ? await output.ProducedSinceAsync(previous, runKey, ct)
            : (IReadOnlySet<string>)new HashSet<string>();
        var sinceCheckpoint = 0;
        string? last = null;
        // Not cancelled with the plan: a stopping planner ends at its next user and checkpoints, it does not throw midway.
        await using var profiles = store.SegmentProfilesAsync(segment, now, resolve, CancellationToken.None).GetAsyncEnumerator(CancellationToken.None);
        var hasProfile = await profiles.MoveNextAsync();
        // The store answers in user id order; ids it orders otherwise than ordinal (outside ASCII) are sorted here.
        var ordered = IsOrdinal(qualified) ? qualified : [.. qualified.Order(StringComparer.Ordinal)];
        foreach (var user in ordered)
        {
            // Profiles come in the same order: move to this user's, if they have one.
            while (hasProfile && string.CompareOrdinal(profiles.Current.UserId, user) < 0) hasProfile = await profiles.MoveNextAsync();
            if (!selection.Has(user) || (resumeAfter is not null && string.CompareOrdinal(user, resumeAfter) <= 0)) continue;
            var produce = !already.Contains(user);
            var profile = hasProfile && profiles.Current.UserId == user ? profiles.Current : null;
            var request = new SmsRequest(RequestIds.ForRun(runKey, run.RunId, user), spec.Id, campaign.Version, user, now,
                new RequestContext(null, null, Props.Empty, profile?.Phone, profile?.Timezone, profile?.SmsOptIn, profile?.Props ?? Props.Empty));
            if (!schedule.PerUser)
            {
                if (produce) output.Request(request);
                planned++;
            }
            else
            {
                var zone = Phones.UserTimeZone(profile?.Timezone, Phones.Parse(profile?.Phone), spec.When?.Timezone);
                var due = Schedule.DueIn(occurrence, zone, best?.HourOf(user));
                if (due < now && now - due > late.Grace)
                {
                    due = late.Then switch
                    {
                        LateAction.SendNow => now,
                        LateAction.NextDay => Schedule.DueIn(occurrence with { Local = occurrence.Local.AddDays(1) }, zone, best?.HourOf(user)),
                        _ => DateTimeOffset.MinValue,
                    };
                }
                if (due < now - late.Grace || due == DateTimeOffset.MinValue)
                {
                    lateSkipped++;
                }
                else
                {
                    if (produce && due <= now) output.Request(request);
                    else if (produce) output.Scheduled(new ScheduledRequest(request, due, spec.When?.BestTime is not null ? "best_time" : "user_timezone"));
                    zones[zone.Id] = zones.GetValueOrDefault(zone.Id) + 1;
                    planned++;
                }
            }
            last = user;
            if (++sinceCheckpoint < CheckpointEvery && !ct.IsCancellationRequested) continue;
            if (!await CheckpointAsync()) return run;
            if (ct.IsCancellationRequested)
            {
                logger.LogInformation("run {Run}: stopping after {User} ({Planned} planned); the next scheduler resumes after it", run.RunId, user, run.Planned);
                return run;
            }
        }
        await output.FlushAsync(CancellationToken.None);
        run = run with
        {
            Status = RunStatus.Done, UpdatedAt = time.GetUtcNow(), Planned = planned, LateSkipped = lateSkipped, Cursor = null, Marks = null,
            Zones = zones.Count > 0 ? zones : null,
        };
        await save(run);
        logger.LogInformation("run {Run}: done: {Qualified} qualified, {Planned} planned, {NotSampled} not sampled, {Over} over limits, {Late} late zones skipped; audience {Audience:0.0} s, planned in {Total:0.0} s",
            run.RunId, run.Qualified, run.Planned, run.NotSampled, run.OverLimit, run.LateSkipped, audienceTime.TotalSeconds, clock.Elapsed.TotalSeconds);
        return run;

        static Dictionary<string, long> Highest(IReadOnlyDictionary<string, long> a, IReadOnlyDictionary<string, long> b)
        {
            var marks = new Dictionary<string, long>(a);
            foreach (var (k, v) in b) marks[k] = Math.Max(marks.GetValueOrDefault(k), v);
            return marks;
        }

        static bool IsOrdinal(IReadOnlyList<string> ids)
        {
            for (var i = 1; i < ids.Count; i++)
            {
                if (string.CompareOrdinal(ids[i - 1], ids[i]) > 0) return false;
            }
            return true;
        }

        async Task<bool> CheckpointAsync()
        {
            // Stopping or not, what was produced is made durable and recorded before anything else happens.
            await output.FlushAsync(CancellationToken.None);
            sinceCheckpoint = 0;
            run = run with
            {
                UpdatedAt = time.GetUtcNow(), Planned = planned, LateSkipped = lateSkipped, Cursor = last, Marks = Highest(ends, output.Marks),
                Zones = zones.Count > 0 ? new Dictionary<string, long>(zones) : null,
            };
            return await save(run);
        }
    }
}
