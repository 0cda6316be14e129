namespace Streams.Core.Schedules;

/// <summary>
/// A run's states. <c>planned</c>: its requests are being produced (<see cref="RunRecord.Cursor"/> says how far);
/// <c>done</c>: every request is in Kafka; <c>held</c>: its audience passed the safety limit, nothing was sent;
/// <c>releasing</c>: approved, to be planned; <c>skipped</c>: missed past max_lateness, or stopped.
/// </summary>
public static class RunStatus
{
    public const string Planned = "planned";
    public const string Held = "held";
    public const string Releasing = "releasing";
    public const string Done = "done";
    public const string Skipped = "skipped";

    /// <summary>The reason a run released from its safety hold keeps while planned.</summary>
    public const string Approved = "approved past the safety limit";
}

/// <summary>
/// One run of a scheduled campaign as sms.runs keeps it (compacted, key = run id). Counts: <see cref="Qualified"/>
/// were in the segment when it was planned; of those <see cref="NotSampled"/> fell outside <c>percent</c>,
/// <see cref="OverLimit"/> past <c>run_limit</c> or <c>limit</c>, <see cref="LateSkipped"/> in zones already past
/// (late policy skip); <see cref="Planned"/> got a request. <see cref="Zones"/>: requests per user zone (per-user runs).
/// <see cref="Marks"/>: at the cursor's checkpoint, where each partition the run writes to ended ("topic:partition" →
/// next offset): a resumed plan reads from there what was produced after the checkpoint and does not produce it again.
/// <see cref="Planner"/>: the scheduler (host/pid) that wrote the record.
/// </summary>
public sealed record RunRecord(
    string RunId,
    string CampaignId,
    int CampaignVersion,
    DateTimeOffset Occurrence,
    string Status,
    DateTimeOffset UpdatedAt,
    long Qualified = 0,
    long Planned = 0,
    long NotSampled = 0,
    long OverLimit = 0,
    long LateSkipped = 0,
    string? Cursor = null,
    string? Reason = null,
    IReadOnlyDictionary<string, long>? Zones = null,
    IReadOnlyDictionary<string, long>? Marks = null,
    string? Planner = null)
{
    public bool Equals(RunRecord? other) =>
        other is not null && RunId == other.RunId && Status == other.Status && UpdatedAt == other.UpdatedAt && Planned == other.Planned && Cursor == other.Cursor;

    public override int GetHashCode() => HashCode.Combine(RunId, Status, UpdatedAt, Planned);
}

/// <summary>sms.alerts: something an operator must look at (a safety hold, ...).</summary>
public sealed record Alert(string Kind, string CampaignId, string? RunId, string Message, DateTimeOffset Ts)
{
    public const string SafetyHold = "safety_hold";
}
