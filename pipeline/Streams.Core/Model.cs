namespace Streams.Core;

/// <summary>Property bags hold only string, long, double, bool or null, whatever the wire format.</summary>
public static class Props
{
    public static readonly IReadOnlyDictionary<string, object?> Empty = new Dictionary<string, object?>();

    public static object? Normalize(object? value) => value switch
    {
        null => null,
        string or long or double or bool => value,
        int i => (long)i,
        float f => (double)f,
        decimal m => (double)m,
        _ => value.ToString(),
    };
}

public sealed record UserEvent(string UserId, string Name, DateTimeOffset Ts, IReadOnlyDictionary<string, object?> Props);

public sealed record ProfileUpdate(
    string UserId,
    DateTimeOffset Ts,
    string? Phone = null,
    string? Timezone = null,
    bool? SmsOptIn = null,
    IReadOnlyDictionary<string, object?>? Props = null);

/// <summary>A user's profile after merging every partial update in order.</summary>
public sealed record Profile(
    string UserId,
    DateTimeOffset UpdatedAt,
    string? Phone,
    string? Timezone,
    bool? SmsOptIn,
    IReadOnlyDictionary<string, object?> Props)
{
    public static Profile Empty(string userId) => new(userId, DateTimeOffset.MinValue, null, null, null, Core.Props.Empty);

    /// <summary>Absent fields keep their value; an update older than the profile still fills gaps but never overwrites.</summary>
    public Profile Merge(ProfileUpdate u)
    {
        var newer = u.Ts >= UpdatedAt;
        var props = new Dictionary<string, object?>(Props);
        foreach (var (k, v) in u.Props ?? Core.Props.Empty)
        {
            if (newer || !props.ContainsKey(k)) props[k] = v;
        }
        return new Profile(
            UserId,
            newer ? u.Ts : UpdatedAt,
            Pick(Phone, u.Phone, newer),
            Pick(Timezone, u.Timezone, newer),
            u.SmsOptIn is { } o && (newer || SmsOptIn is null) ? o : SmsOptIn,
            props);
    }

    private static string? Pick(string? current, string? update, bool newer) =>
        update is not null && (newer || current is null) ? update : current;
}

public sealed record RequestContext(
    string? EventName,
    DateTimeOffset? EventTs,
    IReadOnlyDictionary<string, object?> EventProps,
    string? Phone,
    string? Timezone,
    bool? SmsOptIn,
    IReadOnlyDictionary<string, object?> ProfileProps);

public sealed record SmsRequest(
    string RequestId,
    string CampaignId,
    int CampaignVersion,
    string UserId,
    DateTimeOffset CreatedAt,
    RequestContext Context);

public sealed record SmsResult(
    string RequestId,
    string? MessageId,
    string CampaignId,
    string UserId,
    string Status,
    string? Reason,
    string? Provider,
    int Segments,
    string? Encoding,
    DateTimeOffset Ts,
    IReadOnlyList<string>? Holds = null);

/// <summary>A goal event credited to one exposure (sms.conversions): at most one per campaign, user and exposure.</summary>
public sealed record ConversionRecord(
    string CampaignId,
    string UserId,
    string RequestId,
    string? RunKey,
    string Cohort,
    DateTimeOffset ExposedAt,
    string Event,
    DateTimeOffset Ts,
    double? Value,
    bool LastTouch);

/// <summary>Who an exposure was: sent to (treatment), or held out at the moment it would have been sent.</summary>
public static class ExposureGroup
{
    public const string Treatment = "treatment";
    public const string Control = "control";
    public const string GlobalControl = "global_control";

    /// <summary>
    /// The group a result exposes its user in, or null when the result is no exposure. Treatment is every request handed
    /// to a provider — sent, refused by the provider (failed without a sent before it) or ambiguous — as the control
    /// group is every request that reached the hand-over: the two are compared as assigned, whatever the provider did.
    /// </summary>
    public static string? Of(SmsResult result) => result switch
    {
        { Status: ResultStatus.Sent or ResultStatus.Failed or ResultStatus.Ambiguous } => Treatment,
        { Status: ResultStatus.Suppressed, Reason: Reasons.ControlGroup } => Control,
        { Status: ResultStatus.Suppressed, Reason: Reasons.GlobalControl } => GlobalControl,
        _ => null,
    };
}

public static class ResultStatus
{
    /// <summary>Handed to the provider, the call about to go out: what a counter store that lost its data learns its claims from.</summary>
    public const string Sending = "sending";
    public const string Sent = "sent";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    public const string Undelivered = "undelivered";
    public const string Suppressed = "suppressed";

    /// <summary>No delivery report came within the provider's report_timeout (reason no_delivery_report).</summary>
    public const string Expired = "expired";

    /// <summary>Handed to a provider by an attempt that died before recording its outcome; never sent again (reason interrupted_attempt).</summary>
    public const string Ambiguous = "ambiguous";

    /// <summary>Statuses that end a request; sent is on the way.</summary>
    public static readonly IReadOnlySet<string> Final = new HashSet<string> { Delivered, Failed, Undelivered, Suppressed, Expired, Ambiguous };
}

/// <summary>Reason codes, in the order the dispatcher checks them (PRODUCT.md, delivery semantics).</summary>
public static class Reasons
{
    public const string CampaignInactive = "campaign_inactive";
    /// <summary>Held out at the moment it would have been sent (ranks last, after every eligibility check): an exposure for lift.</summary>
    public const string ControlGroup = "control_group";
    public const string NotSampled = "not_sampled";
    public const string OptedOut = "opted_out";
    public const string InvalidPhone = "invalid_phone";
    public const string LimitReached = "limit_reached";
    public const string DailyLimitReached = "daily_limit_reached";
    public const string RunLimitReached = "run_limit_reached";
    public const string FrequencyCapped = "frequency_capped";
    public const string DndDiscarded = "dnd_discarded";
    public const string RenderFailed = "render_failed";
    public const string TooManySegments = "too_many_segments";
    /// <summary>Held out by the configured global control group (control.global_percent): an exposure, like control_group.</summary>
    public const string GlobalControl = "global_control";
    public const string ProviderError = "provider_error";
    public const string NoDeliveryReport = "no_delivery_report";
    public const string InterruptedAttempt = "interrupted_attempt";
}

/// <summary>Completed: a live campaign whose reach limit is full (the dispatcher sets it); it sends nothing more.</summary>
public enum CampaignStatus { Active, Paused, Stopped, Completed }

public sealed record CampaignRecord(string Id, int Version, CampaignStatus Status, string SpecJson, DateTimeOffset UpdatedAt);

/// <summary>A user's memberships in the saved segments live campaigns name, as the segment job last evaluated them.</summary>
public sealed record Membership(string UserId, IReadOnlyList<string> Segments, DateTimeOffset EvaluatedAt)
{
    public bool Equals(Membership? other) =>
        other is not null && UserId == other.UserId && EvaluatedAt == other.EvaluatedAt && Segments.SequenceEqual(other.Segments);

    public override int GetHashCode() => HashCode.Combine(UserId, EvaluatedAt, Segments.Count);
}

/// <summary>A request the dispatcher sends back to wait in sms.scheduled (a DND delay, a claim still pending); the cause says which.</summary>
public sealed record ScheduledRequest(SmsRequest Request, DateTimeOffset DueAt, string Cause);
