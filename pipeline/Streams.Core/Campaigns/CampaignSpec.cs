namespace Streams.Core.Campaigns;

/// <summary>The campaign spec of PRODUCT.md, typed. Optional sections are null when absent.</summary>
public sealed record CampaignSpec
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required CampaignType Type { get; init; }
    public Who Who { get; init; } = new();
    public When? When { get; init; }
    public required What What { get; init; }
    public Goal? Goal { get; init; }
}

public enum CampaignType { Live, Scheduled }

public sealed record Who
{
    public Trigger? Trigger { get; init; }
    public SegmentNode? Segment { get; init; }
    public Reach? Reach { get; init; }
}

public sealed record Trigger
{
    public required string Event { get; init; }
    public IReadOnlyList<Condition> Where { get; init; } = [];
    public Inaction? Inaction { get; init; }
    public DateReminder? Date { get; init; }
}

public sealed record Condition(string Prop, ConditionOp Op, object? Value);

/// <summary>
/// <c>WithinNext</c> / <c>WithinLast</c> take a duration and hold for a date property between now and now ± it (both
/// ends included); they need the time of judgement, so only segments take them.
/// </summary>
public enum ConditionOp { Eq, Ne, Gt, Gte, Lt, Lte, In, Contains, Exists, WithinNext, WithinLast }

public sealed record Inaction(string Event, TimeSpan Within, IReadOnlyList<Condition> Where);

public sealed record DateReminder(string Event, string Prop, TimeSpan Offset, TimeOnly At);

/// <summary>A segment is a tree of all/any/not over profile and past-behaviour conditions, or a saved segment.</summary>
public abstract record SegmentNode;
public sealed record AllOf(IReadOnlyList<SegmentNode> Items) : SegmentNode;
public sealed record AnyOf(IReadOnlyList<SegmentNode> Items) : SegmentNode;
public sealed record NotOf(SegmentNode Item) : SegmentNode;
public sealed record ProfileCondition(Condition Condition) : SegmentNode;
/// <summary>
/// Past behaviour: events named <see cref="Event"/> matching <see cref="Where"/>, counted over <see cref="Within"/> (see
/// <see cref="Streams.Core.Segments.Window"/>), in <see cref="Count"/> (at least once without it); <see cref="FirstTime"/>
/// and <see cref="LastTime"/> bound the user's first and last such event over all their history.
/// </summary>
public sealed record DidCondition(string Event, CountRange? Count, TimeSpan? Within, IReadOnlyList<Condition> Where) : SegmentNode
{
    public TimeBound? FirstTime { get; init; }
    public TimeBound? LastTime { get; init; }
}

/// <summary>Before and/or after an instant; each an absolute instant or a duration back from the time of judgement.</summary>
public sealed record TimeBound(RelativeTime? Before, RelativeTime? After);

/// <summary>An instant (<see cref="At"/>) or a duration back from now (<see cref="Ago"/>).</summary>
public sealed record RelativeTime(DateTimeOffset? At, TimeSpan? Ago)
{
    public DateTimeOffset Resolve(DateTimeOffset now) => At ?? now - Ago!.Value;

    public override string ToString() => At is { } at ? at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture) : Durations.Format(Ago!.Value);
}
public sealed record SegmentRef(string Ref) : SegmentNode;
public sealed record CountRange(long? Eq, long? Gte, long? Lte, long? Gt, long? Lt);

public sealed record Reach
{
    public double? Percent { get; init; }
    public long? Limit { get; init; }
    public long? DailyLimit { get; init; }
    public long? RunLimit { get; init; }
    public long? SafetyLimit { get; init; }
}

public sealed record When
{
    /// <summary>Local times in <see cref="Timezone"/> (each user's own zone with user_timezone or best_time).</summary>
    public IReadOnlyList<DateTime> At { get; init; } = [];

    /// <summary><c>at: now</c>: one run as soon as the campaign is applied (its run id does not change with later versions).</summary>
    public bool AtNow { get; init; }
    public Recurrence? Every { get; init; }
    public string? Timezone { get; init; }
    public DeliverIn? DeliverIn { get; init; }
    public BestTime? BestTime { get; init; }

    /// <summary>User-zone and best-time runs: what becomes of a user whose local send time has already passed when the run is planned.</summary>
    public Late? Late { get; init; }

    /// <summary>An occurrence missed while no scheduler ran is planned late only this long after its time (default 1h).</summary>
    public TimeSpan? MaxLateness { get; init; }
    public DateTimeOffset? Start { get; init; }
    public DateTimeOffset? End { get; init; }
    public Dnd? Dnd { get; init; }
    public GlobalLimits? GlobalLimits { get; init; }
}

public sealed record Recurrence(string Cron, DateOnly? Until);
public enum DeliverIn { UserTimezone, CampaignTimezone }
/// <summary>Each user at the local hour in [From, To) where their history of <see cref="Events"/> (empty: every event) is densest.</summary>
public sealed record BestTime(TimeOnly From, TimeOnly To, IReadOnlyList<string> Events);

public sealed record Late(TimeSpan Grace, LateAction Then);
public enum LateAction { Skip, NextDay, SendNow }
public sealed record Dnd(TimeOnly From, TimeOnly To, DndAction Action);
public enum DndAction { Delay, Discard }
public enum GlobalLimits { Apply, Ignore }

public sealed record What
{
    public required string Provider { get; init; }
    public string? From { get; init; }
    public string? MessagingService { get; init; }
    public required string Text { get; init; }
    public int? MaxSegments { get; init; }
    public bool? SmartEncoding { get; init; }
}

public sealed record Goal
{
    public Conversion? Conversion { get; init; }
    public double? ControlGroup { get; init; }

    /// <summary>Exempt from the global control group (control.global_percent): receipts, one-time codes.</summary>
    public bool? Transactional { get; init; }
}

/// <summary>An event matching <see cref="Event"/> and <see cref="Where"/> within the window after an exposure is a conversion; <see cref="Value"/> names its revenue property.</summary>
public sealed record Conversion(string Event, TimeSpan Within, IReadOnlyList<Condition>? Where = null, string? Value = null)
{
    /// <summary>The longest window a goal may have: attribution keeps an exposure for its window plus this much for late events.</summary>
    public static readonly TimeSpan LongestWindow = TimeSpan.FromDays(30);

    public IReadOnlyList<Condition> Conditions => Where ?? [];
}
