using Avro.Generic;
using Streams.Core;
using Streams.Core.Schedules;

namespace Streams.Kafka;

public static class Codecs
{
    public static UserEventCodec UserEvent { get; } = new();
    public static ProfileUpdateCodec ProfileUpdate { get; } = new();
    public static CampaignRecordCodec CampaignRecord { get; } = new();
    public static SmsRequestCodec SmsRequest { get; } = new();
    public static SmsResultCodec SmsResult { get; } = new();
    public static InboundMessageCodec InboundMessage { get; } = new();
    public static ScheduledRequestCodec ScheduledRequest { get; } = new();
    public static MembershipCodec Membership { get; } = new();
    public static RunRecordCodec RunRecord { get; } = new();
    public static AlertCodec Alert { get; } = new();
    public static ConversionCodec Conversion { get; } = new();
}

/// <summary>sms.conversions.</summary>
public sealed class ConversionCodec() : RecordCodec<ConversionRecord>(Schemas.Conversion)
{
    protected override GenericRecord ToRecord(ConversionRecord v)
    {
        var r = new GenericRecord(Schema);
        r.Add("campaign_id", v.CampaignId);
        r.Add("user_id", v.UserId);
        r.Add("request_id", v.RequestId);
        r.Add("run_key", v.RunKey);
        r.Add("cohort", v.Cohort);
        r.Add("exposed_at", Utc(v.ExposedAt));
        r.Add("event", v.Event);
        r.Add("ts", Utc(v.Ts));
        r.Add("value", v.Value);
        r.Add("last_touch", v.LastTouch);
        return r;
    }

    protected override ConversionRecord FromRecord(GenericRecord r) => new(
        Get<string>(r, "campaign_id")!, Get<string>(r, "user_id")!, Get<string>(r, "request_id")!, Get<string>(r, "run_key"), Get<string>(r, "cohort")!,
        Instant(r["exposed_at"]), Get<string>(r, "event")!, Instant(r["ts"]), r.TryGetValue("value", out var v) && v is double d ? d : null, Get<bool>(r, "last_touch"));

    protected override ConversionRecord FromJson(JsonFields j)
    {
        j.Only("campaign_id", "user_id", "request_id", "run_key", "cohort", "exposed_at", "event", "ts", "value", "last_touch");
        return new ConversionRecord(j.String("campaign_id"), j.String("user_id"), j.String("request_id"), j.OptionalString("run_key"), j.String("cohort"),
            j.Instant("exposed_at"), j.String("event"), j.Instant("ts"), j.OptionalDouble("value"), j.OptionalBool("last_touch") ?? false);
    }
}

/// <summary>sms.runs: a scheduled campaign's run and its state.</summary>
public sealed class RunRecordCodec() : RecordCodec<RunRecord>(Schemas.RunRecord)
{
    protected override GenericRecord ToRecord(RunRecord v)
    {
        var r = new GenericRecord(Schema);
        r.Add("run_id", v.RunId);
        r.Add("campaign_id", v.CampaignId);
        r.Add("campaign_version", v.CampaignVersion);
        r.Add("occurrence", Utc(v.Occurrence));
        r.Add("status", v.Status);
        r.Add("updated_at", Utc(v.UpdatedAt));
        r.Add("qualified", v.Qualified);
        r.Add("planned", v.Planned);
        r.Add("not_sampled", v.NotSampled);
        r.Add("over_limit", v.OverLimit);
        r.Add("late_skipped", v.LateSkipped);
        r.Add("cursor", v.Cursor);
        r.Add("reason", v.Reason);
        r.Add("zones", (v.Zones ?? new Dictionary<string, long>()).ToDictionary(z => z.Key, z => (object)z.Value));
        r.Add("marks", (v.Marks ?? new Dictionary<string, long>()).ToDictionary(z => z.Key, z => (object)z.Value));
        r.Add("planner", v.Planner);
        return r;
    }

    protected override RunRecord FromRecord(GenericRecord r) => new(
        Get<string>(r, "run_id")!, Get<string>(r, "campaign_id")!, r["campaign_version"] is int v ? v : 0, Instant(r["occurrence"]),
        Get<string>(r, "status")!, Instant(r["updated_at"]),
        Get<long>(r, "qualified"), Get<long>(r, "planned"), Get<long>(r, "not_sampled"), Get<long>(r, "over_limit"), Get<long>(r, "late_skipped"),
        Get<string>(r, "cursor"), Get<string>(r, "reason"), Longs(r, "zones"), Longs(r, "marks"), Get<string>(r, "planner"));

    private static Dictionary<string, long>? Longs(GenericRecord r, string field) =>
        r.TryGetValue(field, out var v) && v is IDictionary<string, object> map && map.Count > 0
            ? map.ToDictionary(kv => kv.Key, kv => Convert.ToInt64(kv.Value, System.Globalization.CultureInfo.InvariantCulture))
            : null;

    protected override RunRecord FromJson(JsonFields j)
    {
        j.Only("run_id", "campaign_id", "campaign_version", "occurrence", "status", "updated_at", "qualified", "planned", "not_sampled", "over_limit",
            "late_skipped", "cursor", "reason", "zones", "marks", "planner");
        Dictionary<string, long>? Longs(string field)
        {
            var map = j.Props(field).ToDictionary(kv => kv.Key, kv => kv.Value is long l ? l
                : throw new DecodeException(DecodeReasons.WrongType, $"'{field}.{kv.Key}' must be a whole number"));
            return map.Count > 0 ? map : null;
        }
        return new RunRecord(j.String("run_id"), j.String("campaign_id"), (int)(j.OptionalLong("campaign_version") ?? 0), j.Instant("occurrence"),
            j.String("status"), j.Instant("updated_at"), j.OptionalLong("qualified") ?? 0, j.OptionalLong("planned") ?? 0,
            j.OptionalLong("not_sampled") ?? 0, j.OptionalLong("over_limit") ?? 0, j.OptionalLong("late_skipped") ?? 0,
            j.OptionalString("cursor"), j.OptionalString("reason"), Longs("zones"), Longs("marks"), j.OptionalString("planner"));
    }
}

/// <summary>sms.alerts.</summary>
public sealed class AlertCodec() : RecordCodec<Alert>(Schemas.Alert)
{
    protected override GenericRecord ToRecord(Alert v)
    {
        var r = new GenericRecord(Schema);
        r.Add("kind", v.Kind);
        r.Add("campaign_id", v.CampaignId);
        r.Add("run_id", v.RunId);
        r.Add("message", v.Message);
        r.Add("ts", Utc(v.Ts));
        return r;
    }

    protected override Alert FromRecord(GenericRecord r) =>
        new(Get<string>(r, "kind")!, Get<string>(r, "campaign_id")!, Get<string>(r, "run_id"), Get<string>(r, "message")!, Instant(r["ts"]));

    protected override Alert FromJson(JsonFields j)
    {
        j.Only("kind", "campaign_id", "run_id", "message", "ts");
        return new Alert(j.String("kind"), j.String("campaign_id"), j.OptionalString("run_id"), j.String("message"), j.Instant("ts"));
    }
}

/// <summary>sms.memberships: a user's tracked saved-segment memberships.</summary>
public sealed class MembershipCodec() : RecordCodec<Membership>(Schemas.Membership)
{
    protected override GenericRecord ToRecord(Membership v)
    {
        var r = new GenericRecord(Schema);
        r.Add("user_id", v.UserId);
        r.Add("segments", v.Segments.Cast<object>().ToArray());
        r.Add("evaluated_at", Utc(v.EvaluatedAt));
        return r;
    }

    protected override Membership FromRecord(GenericRecord r) => new(
        Get<string>(r, "user_id")!,
        r.TryGetValue("segments", out var segments) && segments is System.Collections.IEnumerable list ? [.. list.Cast<object>().Select(o => (string)o)] : [],
        Instant(r["evaluated_at"]));

    protected override Membership FromJson(JsonFields j)
    {
        j.Only("user_id", "segments", "evaluated_at");
        return new Membership(j.String("user_id"), j.OptionalStrings("segments") ?? [], j.Instant("evaluated_at"));
    }
}

/// <summary>sms.scheduled: the request as SmsRequest's own codec writes it, inside a due time and a cause.</summary>
public sealed class ScheduledRequestCodec() : RecordCodec<ScheduledRequest>(Schemas.ScheduledRequest)
{
    private readonly SmsRequestCodec _request = new();
    private readonly Avro.RecordSchema _requestSchema = (Avro.RecordSchema)Schemas.ScheduledRequest["request"].Schema;

    protected override GenericRecord ToRecord(ScheduledRequest v)
    {
        var r = new GenericRecord(Schema);
        r.Add("request", _request.ToRecordFor(v.Request, _requestSchema));
        r.Add("due_at", Utc(v.DueAt));
        r.Add("cause", v.Cause);
        return r;
    }

    protected override ScheduledRequest FromRecord(GenericRecord r) =>
        new(_request.FromRecordOf((GenericRecord)r["request"]), Instant(r["due_at"]), Get<string>(r, "cause")!);

    protected override ScheduledRequest FromJson(JsonFields j)
    {
        j.Only("request", "due_at", "cause");
        return new ScheduledRequest(_request.FromJsonOf(j.Object("request")), j.Instant("due_at"), j.String("cause"));
    }
}

public sealed class InboundMessageCodec() : RecordCodec<InboundMessage>(Schemas.InboundMessage)
{
    protected override GenericRecord ToRecord(InboundMessage v)
    {
        var r = new GenericRecord(Schema);
        r.Add("id", v.Id);
        r.Add("provider", v.Provider);
        r.Add("from", v.From);
        r.Add("to", v.To);
        r.Add("body", v.Body);
        r.Add("received_at", Utc(v.ReceivedAt));
        return r;
    }

    protected override InboundMessage FromRecord(GenericRecord r) => new(
        Get<string>(r, "id")!, Get<string>(r, "provider")!, Get<string>(r, "from")!, Get<string>(r, "to"), Get<string>(r, "body")!, Instant(r["received_at"]));

    protected override InboundMessage FromJson(JsonFields j)
    {
        j.Only("id", "provider", "from", "to", "body", "received_at");
        return new InboundMessage(j.String("id"), j.String("provider"), j.String("from"), j.OptionalString("to"),
            j.OptionalString("body") ?? "", j.Instant("received_at"));
    }
}

public sealed class UserEventCodec() : RecordCodec<UserEvent>(Schemas.UserEvent)
{
    protected override GenericRecord ToRecord(UserEvent v)
    {
        var r = new GenericRecord(Schema);
        r.Add("user_id", v.UserId);
        r.Add("name", v.Name);
        r.Add("ts", Utc(v.Ts));
        r.Add("props", MapTo(v.Props));
        return r;
    }

    protected override UserEvent FromRecord(GenericRecord r) =>
        Check(new UserEvent(Get<string>(r, "user_id")!, Get<string>(r, "name")!, Instant(r["ts"]), MapFrom(r, "props")));

    protected override UserEvent FromJson(JsonFields j)
    {
        j.Only("user_id", "name", "ts", "props");
        return Check(new UserEvent(j.String("user_id"), j.String("name"), j.Instant("ts"), j.Props("props")));
    }

    private static UserEvent Check(UserEvent e)
    {
        if (string.IsNullOrEmpty(e.UserId)) throw new DecodeException(DecodeReasons.InvalidValue, "'user_id' must not be empty");
        if (string.IsNullOrEmpty(e.Name)) throw new DecodeException(DecodeReasons.InvalidValue, "'name' must not be empty");
        return e;
    }
}

public sealed class ProfileUpdateCodec() : RecordCodec<ProfileUpdate>(Schemas.ProfileUpdate)
{
    protected override GenericRecord ToRecord(ProfileUpdate v)
    {
        var r = new GenericRecord(Schema);
        r.Add("user_id", v.UserId);
        r.Add("ts", Utc(v.Ts));
        r.Add("phone", v.Phone);
        r.Add("timezone", v.Timezone);
        r.Add("sms_opt_in", v.SmsOptIn);
        r.Add("props", MapTo(v.Props ?? Props.Empty));
        return r;
    }

    protected override ProfileUpdate FromRecord(GenericRecord r) => Check(new ProfileUpdate(
        Get<string>(r, "user_id")!, Instant(r["ts"]), Get<string>(r, "phone"), Get<string>(r, "timezone"),
        r["sms_opt_in"] as bool?, MapFrom(r, "props")));

    protected override ProfileUpdate FromJson(JsonFields j)
    {
        j.Only("user_id", "ts", "phone", "timezone", "sms_opt_in", "props");
        return Check(new ProfileUpdate(j.String("user_id"), j.Instant("ts"), j.OptionalString("phone"),
            j.OptionalString("timezone"), j.OptionalBool("sms_opt_in"), j.Props("props")));
    }

    private static ProfileUpdate Check(ProfileUpdate p)
    {
        if (string.IsNullOrEmpty(p.UserId)) throw new DecodeException(DecodeReasons.InvalidValue, "'user_id' must not be empty");
        if (p.Timezone is { } tz && !TimeZoneInfo.TryFindSystemTimeZoneById(tz, out _))
            throw new DecodeException(DecodeReasons.InvalidValue, $"'timezone' is not a known time zone: '{tz}'");
        return p;
    }

    /// <summary>The merged profile is stored in the same shape as an update.</summary>
    public byte[] EncodeProfile(Profile p) =>
        Encode(new ProfileUpdate(p.UserId, p.UpdatedAt == DateTimeOffset.MinValue ? DateTimeOffset.UnixEpoch : p.UpdatedAt, p.Phone, p.Timezone, p.SmsOptIn, p.Props));

    public Profile DecodeProfile(byte[] bytes)
    {
        var u = DecodeOwn(bytes);
        return new Profile(u.UserId, u.Ts, u.Phone, u.Timezone, u.SmsOptIn, u.Props ?? Props.Empty);
    }
}

public sealed class CampaignRecordCodec() : RecordCodec<CampaignRecord>(Schemas.CampaignRecord)
{
    private readonly Avro.EnumSchema _status = (Avro.EnumSchema)Schemas.CampaignRecord["status"].Schema;

    protected override GenericRecord ToRecord(CampaignRecord v)
    {
        var r = new GenericRecord(Schema);
        r.Add("id", v.Id);
        r.Add("version", v.Version);
        r.Add("status", new GenericEnum(_status, v.Status.ToString().ToLowerInvariant()));
        r.Add("spec_json", v.SpecJson);
        r.Add("updated_at", Utc(v.UpdatedAt));
        return r;
    }

    protected override CampaignRecord FromRecord(GenericRecord r) => new(
        Get<string>(r, "id")!, Get<int>(r, "version"), ParseStatus(Get<GenericEnum>(r, "status")?.Value),
        Get<string>(r, "spec_json")!, Instant(r["updated_at"]));

    protected override CampaignRecord FromJson(JsonFields j)
    {
        j.Only("id", "version", "status", "spec_json", "updated_at");
        return new CampaignRecord(j.String("id"), (int)(j.OptionalLong("version") ?? 1), ParseStatus(j.String("status")),
            j.String("spec_json"), j.Instant("updated_at"));
    }

    private static CampaignStatus ParseStatus(string? s) => s switch
    {
        "active" => CampaignStatus.Active,
        "paused" => CampaignStatus.Paused,
        "stopped" => CampaignStatus.Stopped,
        "completed" => CampaignStatus.Completed,
        _ => throw new DecodeException(DecodeReasons.InvalidValue, $"unknown campaign status '{s}'"),
    };
}

public sealed class SmsRequestCodec() : RecordCodec<SmsRequest>(Schemas.SmsRequest)
{
    internal GenericRecord ToRecordFor(SmsRequest v, Avro.RecordSchema schema) => Build(v, schema);
    internal SmsRequest FromRecordOf(GenericRecord r) => FromRecord(r);
    internal SmsRequest FromJsonOf(JsonFields j) => FromJson(j);

    protected override GenericRecord ToRecord(SmsRequest v) => Build(v, Schema);

    private static GenericRecord Build(SmsRequest v, Avro.RecordSchema schema)
    {
        var c = new GenericRecord((Avro.RecordSchema)schema["context"].Schema);
        c.Add("event_name", v.Context.EventName);
        c.Add("event_ts", v.Context.EventTs?.ToUnixTimeMilliseconds());
        c.Add("event_props", MapTo(v.Context.EventProps));
        c.Add("phone", v.Context.Phone);
        c.Add("timezone", v.Context.Timezone);
        c.Add("sms_opt_in", v.Context.SmsOptIn);
        c.Add("profile_props", MapTo(v.Context.ProfileProps));
        var r = new GenericRecord(schema);
        r.Add("request_id", v.RequestId);
        r.Add("campaign_id", v.CampaignId);
        r.Add("campaign_version", v.CampaignVersion);
        r.Add("user_id", v.UserId);
        r.Add("created_at", Utc(v.CreatedAt));
        r.Add("context", c);
        return r;
    }

    protected override SmsRequest FromRecord(GenericRecord r)
    {
        var c = (GenericRecord)r["context"];
        var eventTs = c["event_ts"] as long?;
        return new SmsRequest(Get<string>(r, "request_id")!, Get<string>(r, "campaign_id")!, Get<int>(r, "campaign_version"),
            Get<string>(r, "user_id")!, Instant(r["created_at"]),
            new RequestContext(Get<string>(c, "event_name"), eventTs is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null,
                MapFrom(c, "event_props"), Get<string>(c, "phone"), Get<string>(c, "timezone"), c["sms_opt_in"] as bool?,
                MapFrom(c, "profile_props")));
    }

    protected override SmsRequest FromJson(JsonFields j)
    {
        j.Only("request_id", "campaign_id", "campaign_version", "user_id", "created_at", "context");
        var c = j.Object("context");
        c.Only("event_name", "event_ts", "event_props", "phone", "timezone", "sms_opt_in", "profile_props");
        return new SmsRequest(j.String("request_id"), j.String("campaign_id"), (int)(j.OptionalLong("campaign_version") ?? 1),
            j.String("user_id"), j.Instant("created_at"),
            new RequestContext(c.OptionalString("event_name"), c.OptionalInstant("event_ts"), c.Props("event_props"),
                c.OptionalString("phone"), c.OptionalString("timezone"), c.OptionalBool("sms_opt_in"), c.Props("profile_props")));
    }
}

public sealed class SmsResultCodec() : RecordCodec<SmsResult>(Schemas.SmsResult)
{
    protected override GenericRecord ToRecord(SmsResult v)
    {
        var r = new GenericRecord(Schema);
        r.Add("request_id", v.RequestId);
        r.Add("message_id", v.MessageId);
        r.Add("campaign_id", v.CampaignId);
        r.Add("user_id", v.UserId);
        r.Add("status", v.Status);
        r.Add("reason", v.Reason);
        r.Add("provider", v.Provider);
        r.Add("segments", v.Segments);
        r.Add("encoding", v.Encoding);
        r.Add("ts", Utc(v.Ts));
        r.Add("holds", (v.Holds ?? []).Cast<object>().ToArray());
        return r;
    }

    protected override SmsResult FromRecord(GenericRecord r) => new(
        Get<string>(r, "request_id")!, Get<string>(r, "message_id"), Get<string>(r, "campaign_id")!, Get<string>(r, "user_id")!,
        Get<string>(r, "status")!, Get<string>(r, "reason"), Get<string>(r, "provider"), Get<int>(r, "segments"),
        Get<string>(r, "encoding"), Instant(r["ts"]),
        // No holds reads as null, so a result without any compares equal however it was written.
        r.TryGetValue("holds", out var holds) && holds is System.Collections.IEnumerable list && list.Cast<object>().Any() ? [.. list.Cast<object>().Select(o => (string)o)] : null);

    protected override SmsResult FromJson(JsonFields j)
    {
        j.Only("request_id", "message_id", "campaign_id", "user_id", "status", "reason", "provider", "segments", "encoding", "ts", "holds");
        return new SmsResult(j.String("request_id"), j.OptionalString("message_id"), j.String("campaign_id"), j.String("user_id"),
            j.String("status"), j.OptionalString("reason"), j.OptionalString("provider"), (int)(j.OptionalLong("segments") ?? 0),
            j.OptionalString("encoding"), j.Instant("ts"), j.OptionalStrings("holds") is { Count: > 0 } holds ? holds : null);
    }
}
