using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cronos;

namespace Streams.Core.Campaigns;

public sealed record SpecProblem(string Path, string Message, int? Line = null, int? Column = null)
{
    public override string ToString() =>
        Line is null ? $"{Path}: {Message}" : $"{Path}: {Message} (line {Line}, column {Column})";
}

public sealed record SpecParseResult(CampaignSpec? Spec, IReadOnlyList<SpecProblem> Problems, JsonNode? Document)
{
    public bool IsValid => Spec is not null && Problems.Count == 0;

    /// <summary>The spec as canonical JSON: what goes into sms.campaigns.</summary>
    public string ToJson() => Document?.ToJsonString(new JsonSerializerOptions { WriteIndented = false }) ?? "{}";
}

public sealed record SegmentParseResult(SavedSegment? Segment, IReadOnlyList<SpecProblem> Problems, JsonNode? Document)
{
    public bool IsValid => Segment is not null && Problems.Count == 0;

    /// <summary>The definition as canonical JSON: what goes into sms.segments.</summary>
    public string ToJson() => Document?.ToJsonString(new JsonSerializerOptions { WriteIndented = false }) ?? "{}";
}

/// <summary>A named segment kept for reuse: campaigns name it with <c>who.segment: {ref: id}</c>.</summary>
public sealed record SavedSegment(string Id, string Name, SegmentNode Segment)
{
    public string? Description { get; init; }
}

/// <summary>Reads a spec (YAML or JSON) into the typed model and lists every problem with its path.</summary>
public static partial class CampaignSpecParser
{
    [GeneratedRegex("^[a-z0-9-]+$")]
    private static partial Regex IdPattern();

    public static SpecParseResult Parse(string text)
    {
        SpecDocument doc;
        try
        {
            doc = SpecDocument.Load(text);
        }
        catch (SpecSyntaxException e)
        {
            return new SpecParseResult(null, [new SpecProblem("$", e.Message, e.Line, e.Column)], null);
        }
        var r = new Reader(doc);
        var spec = r.ReadSpec(doc.Root);
        return new SpecParseResult(r.Problems.Count == 0 ? spec : null, r.Problems, doc.Root);
    }

    public static CampaignSpec ParseValid(string text)
    {
        var result = Parse(text);
        if (!result.IsValid) throw new InvalidDataException("invalid campaign spec: " + string.Join("; ", result.Problems));
        return result.Spec!;
    }

    /// <summary>A saved segment file: <c>{id, name, segment}</c>, checked like a campaign's <c>who.segment</c>.</summary>
    public static SegmentParseResult ParseSegment(string text)
    {
        SpecDocument doc;
        try
        {
            doc = SpecDocument.Load(text);
        }
        catch (SpecSyntaxException e)
        {
            return new SegmentParseResult(null, [new SpecProblem("$", e.Message, e.Line, e.Column)], null);
        }
        var r = new Reader(doc);
        var saved = r.ReadSavedSegment(doc.Root);
        return new SegmentParseResult(r.Problems.Count == 0 ? saved : null, r.Problems, doc.Root);
    }

    private sealed class Reader(SpecDocument doc)
    {
        public List<SpecProblem> Problems { get; } = [];

        public SavedSegment? ReadSavedSegment(JsonNode? root)
        {
            var o = Obj(root, "$", required: true, "id", "name", "description", "segment");
            if (o is null) return null;
            var id = Str(o, "id", "id", required: true);
            if (id is not null && !IdPattern().IsMatch(id)) Problem("id", "must match [a-z0-9-]+", o["id"]);
            var name = Str(o, "name", "name", required: true);
            var description = Str(o, "description", "description", required: false);
            var segment = ReadSegment(o["segment"], "segment");
            return id is null || name is null || segment is null ? null : new SavedSegment(id, name, segment) { Description = description };
        }

        private void Problem(string path, string message, JsonNode? at = null)
        {
            var pos = doc.PositionOf(at);
            Problems.Add(new SpecProblem(path, message, pos?.Line, pos?.Column));
        }

        public CampaignSpec? ReadSpec(JsonNode? root)
        {
            var o = Obj(root, "$", required: true, "id", "name", "type", "who", "when", "what", "goal");
            if (o is null) return null;
            var id = Str(o, "id", "id", required: true);
            if (id is not null && !IdPattern().IsMatch(id)) Problem("id", "must match [a-z0-9-]+", o["id"]);
            var name = Str(o, "name", "name", required: true);
            var typeText = Str(o, "type", "type", required: true);
            CampaignType? type = typeText switch
            {
                null => null,
                "live" => CampaignType.Live,
                "scheduled" => CampaignType.Scheduled,
                _ => Invalid<CampaignType>("type", "must be one of: live, scheduled", o["type"]),
            };
            var who = ReadWho(Obj(o["who"], "who", required: false, "trigger", "segment", "reach"));
            var when = ReadWhen(Obj(o["when"], "when", required: false,
                "at", "every", "timezone", "deliver_in", "best_time", "late", "max_lateness", "start", "end", "dnd", "global_limits"));
            var what = ReadWhat(Obj(o["what"], "what", required: true,
                "provider", "from", "messaging_service", "text", "max_segments", "smart_encoding"));
            var goal = ReadGoal(Obj(o["goal"], "goal", required: false, "conversion", "control_group", "transactional"));

            if (type == CampaignType.Live && who.Trigger is null && !Problems.Any(p => p.Path.StartsWith("who", StringComparison.Ordinal)))
                Problem("who.trigger", "a live campaign needs a trigger");
            if (type == CampaignType.Scheduled)
            {
                if (who.Trigger is not null) Problem("who.trigger", "only live campaigns have a trigger");
                if (when is null || (when.At.Count == 0 && !when.AtNow && when.Every is null)) Problem("when", "a scheduled campaign needs when.at or when.every");
            }
            if (type == CampaignType.Live && when is not null && (when.At.Count > 0 || when.AtNow || when.Every is not null))
                Problem("when", "when.at and when.every are for scheduled campaigns");
            if (when?.BestTime is not null && when.DeliverIn == Campaigns.DeliverIn.CampaignTimezone)
                Problem("when.best_time", "best_time sends at each user's local hour: it cannot go with deliver_in: campaign_timezone");
            if (when?.Start is { } s && when.End is { } e && e <= s) Problem("when.end", "must be after when.start", o["when"]?["end"]);

            if (id is null || name is null || type is null || what is null) return null;
            return new CampaignSpec { Id = id, Name = name, Type = type.Value, Who = who, When = when, What = what, Goal = goal };
        }

        private Who ReadWho(JsonObject? o)
        {
            if (o is null) return new Who();
            return new Who
            {
                Trigger = ReadTrigger(Obj(o["trigger"], "who.trigger", required: false, "event", "where", "inaction", "date")),
                Segment = o.ContainsKey("segment") ? ReadSegment(o["segment"], "who.segment") : null,
                Reach = ReadReach(Obj(o["reach"], "who.reach", required: false, "percent", "limit", "daily_limit", "run_limit", "safety_limit")),
            };
        }

        private Trigger? ReadTrigger(JsonObject? o)
        {
            if (o is null) return null;
            // A date reminder names its event; the trigger's event may repeat it, never differ.
            var ev = Str(o, "event", "who.trigger.event", required: o["date"] is null);
            var where = Conditions(o["where"], "who.trigger.where");
            Inaction? inaction = null;
            if (Obj(o["inaction"], "who.trigger.inaction", required: false, "event", "within", "where") is { } i)
            {
                var iev = Str(i, "event", "who.trigger.inaction.event", required: true);
                var within = Duration(i, "within", "who.trigger.inaction.within", required: true, positive: true);
                var iwhere = Conditions(i["where"], "who.trigger.inaction.where");
                if (iev is not null && within is not null) inaction = new Inaction(iev, within.Value, iwhere);
            }
            DateReminder? date = null;
            if (Obj(o["date"], "who.trigger.date", required: false, "event", "prop", "offset", "at") is { } d)
            {
                var dev = Str(d, "event", "who.trigger.date.event", required: ev is null) ?? ev;
                var prop = Str(d, "prop", "who.trigger.date.prop", required: true);
                var offset = Duration(d, "offset", "who.trigger.date.offset", required: false, positive: false) ?? TimeSpan.Zero;
                var at = Time(d, "at", "who.trigger.date.at", required: true);
                if (dev is not null && prop is not null && at is not null) date = new DateReminder(dev, prop, offset, at.Value);
            }
            if (inaction is not null && date is not null) Problem("who.trigger", "inaction and date cannot be combined");
            if (date is not null && ev is not null && date.Event != ev)
                Problem("who.trigger.date.event", $"must be the trigger's event ('{ev}'): that event carries the date", o["date"]);
            ev ??= date?.Event;
            return ev is null ? null : new Trigger { Event = ev, Where = where, Inaction = inaction, Date = date };
        }

        private IReadOnlyList<Condition> Conditions(JsonNode? node, string path, bool segment = false)
        {
            if (node is null) return [];
            if (node is not JsonArray arr)
            {
                Problem(path, "must be a list of conditions", node);
                return [];
            }
            var list = new List<Condition>();
            for (var n = 0; n < arr.Count; n++)
            {
                if (ReadCondition(arr[n], $"{path}[{n}]", segment) is { } c) list.Add(c);
            }
            return list;
        }

        private static readonly Dictionary<string, ConditionOp> Ops = new()
        {
            ["eq"] = ConditionOp.Eq, ["ne"] = ConditionOp.Ne, ["gt"] = ConditionOp.Gt, ["gte"] = ConditionOp.Gte, ["lt"] = ConditionOp.Lt,
            ["lte"] = ConditionOp.Lte, ["in"] = ConditionOp.In, ["contains"] = ConditionOp.Contains, ["exists"] = ConditionOp.Exists,
            ["within_next"] = ConditionOp.WithinNext, ["within_last"] = ConditionOp.WithinLast,
        };

        /// <param name="segment">In a segment (profile conditions, did.where), where relative dates can be judged.</param>
        private Condition? ReadCondition(JsonNode? node, string path, bool segment = false)
        {
            var o = Obj(node, path, required: true, "prop", "op", "value");
            if (o is null) return null;
            var prop = Str(o, "prop", path + ".prop", required: true);
            var opText = Str(o, "op", path + ".op", required: true);
            var names = segment ? string.Join(", ", Ops.Keys) : string.Join(", ", Ops.Keys.Where(k => !k.StartsWith("within_", StringComparison.Ordinal)));
            ConditionOp? op = opText is null ? null
                : Ops.TryGetValue(opText, out var parsed) && (segment || parsed is not (ConditionOp.WithinNext or ConditionOp.WithinLast)) ? parsed
                : Invalid<ConditionOp>(path + ".op", $"must be one of: {names}", o["op"]);
            object? value = null;
            var valueNode = o["value"];
            if (op is ConditionOp.WithinNext or ConditionOp.WithinLast)
            {
                value = Duration(o, "value", path + ".value", required: true, positive: true);
            }
            else if (op is ConditionOp.Exists)
            {
                if (valueNode is not null && valueNode.GetValueKind() != JsonValueKind.True && valueNode.GetValueKind() != JsonValueKind.False)
                    Problem(path + ".value", "exists takes true, false or no value", valueNode);
                value = valueNode?.GetValueKind() != JsonValueKind.False;
            }
            else if (op is ConditionOp.In)
            {
                if (valueNode is not JsonArray values || values.Count == 0) Problem(path + ".value", "in needs a non-empty list", valueNode ?? o);
                else value = values.Select(v => ScalarValue(v, path + ".value")).ToList();
            }
            else if (op is not null)
            {
                if (!o.ContainsKey("value")) Problem(path + ".value", "is required");
                else value = ScalarValue(valueNode, path + ".value");
                if (op is ConditionOp.Gt or ConditionOp.Gte or ConditionOp.Lt or ConditionOp.Lte && value is not (long or double or string))
                    Problem(path + ".value", "comparisons need a number or a date", valueNode);
            }
            return prop is null || op is null ? null : new Condition(prop, op.Value, value);
        }

        private object? ScalarValue(JsonNode? node, string path)
        {
            if (node is null) return null;
            if (node is not JsonValue v)
            {
                Problem(path, "must be a string, number or boolean", node);
                return null;
            }
            return v.GetValueKind() switch
            {
                JsonValueKind.String => v.GetValue<string>(),
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.Number => NumberOf(v),
                _ => null,
            };
        }

        // A JsonValue built from a YAML scalar and one parsed from JSON answer TryGetValue differently; the text does not.
        private static object NumberOf(JsonValue v)
        {
            var text = v.ToJsonString();
            return long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var l)
                ? (object)l
                : double.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        }

        private SegmentNode? ReadSegment(JsonNode? node, string path)
        {
            var o = Obj(node, path, required: true, "all", "any", "not", "profile", "did", "ref");
            if (o is null) return null;
            if (o.Count != 1)
            {
                Problem(path, "must have exactly one of: all, any, not, profile, did, ref", node);
                return null;
            }
            var (key, value) = o.First();
            var p = $"{path}.{key}";
            switch (key)
            {
                case "all" or "any":
                    if (value is not JsonArray arr || arr.Count == 0)
                    {
                        Problem(p, "must be a non-empty list", value ?? node);
                        return null;
                    }
                    var items = arr.Select((n, i) => ReadSegment(n, $"{p}[{i}]")).OfType<SegmentNode>().ToList();
                    return key == "all" ? new AllOf(items) : new AnyOf(items);
                case "not":
                    return ReadSegment(value, p) is { } inner ? new NotOf(inner) : null;
                case "profile":
                    return ReadCondition(value, p, segment: true) is { } c ? new ProfileCondition(c) : null;
                case "ref":
                    return value is JsonValue rv && rv.GetValueKind() == JsonValueKind.String && IdPattern().IsMatch(rv.GetValue<string>())
                        ? new SegmentRef(rv.GetValue<string>())
                        : InvalidRef(p, value ?? node);
                default:
                    var d = Obj(value, p, required: true, "event", "count", "within", "where", "first_time", "last_time");
                    if (d is null) return null;
                    var ev = Str(d, "event", p + ".event", required: true);
                    var within = Duration(d, "within", p + ".within", required: false, positive: true);
                    CountRange? count = null;
                    if (Obj(d["count"], p + ".count", required: false, "eq", "gte", "lte", "gt", "lt", "between") is { } c2)
                    {
                        var (gte, lte) = (Long(c2, "gte", p + ".count.gte", 0), Long(c2, "lte", p + ".count.lte", 0));
                        if (c2["between"] is { } between)
                        {
                            if (between is JsonArray { Count: 2 } pair && pair[0] is JsonValue lo && lo.GetValueKind() == JsonValueKind.Number && NumberOf(lo) is long low
                                && pair[1] is JsonValue hi && hi.GetValueKind() == JsonValueKind.Number && NumberOf(hi) is long high && 0 <= low && low <= high)
                            {
                                if (gte is not null || lte is not null) Problem(p + ".count.between", "takes the place of gte and lte; give one or the other", between);
                                (gte, lte) = (low, high);
                            }
                            else Problem(p + ".count.between", "must be two whole numbers [low, high], 0 <= low <= high (both included)", between);
                        }
                        count = new CountRange(Long(c2, "eq", p + ".count.eq", 0), gte, lte, Long(c2, "gt", p + ".count.gt", 0), Long(c2, "lt", p + ".count.lt", 0));
                        if (c2.Count == 0) Problem(p + ".count", "needs one of: eq, gte, lte, gt, lt, between", d["count"]);
                    }
                    var where = Conditions(d["where"], p + ".where", segment: true);
                    var first = ReadTimeBound(d["first_time"], p + ".first_time");
                    var last = ReadTimeBound(d["last_time"], p + ".last_time");
                    return ev is null ? null : new DidCondition(ev, count, within, where) { FirstTime = first, LastTime = last };
            }
        }

        private TimeBound? ReadTimeBound(JsonNode? node, string path)
        {
            if (Obj(node, path, required: false, "before", "after") is not { } o) return null;
            if (o.Count == 0)
            {
                Problem(path, "needs before, after or both", node);
                return null;
            }
            var before = ReadRelativeTime(o, "before", path + ".before");
            var after = ReadRelativeTime(o, "after", path + ".after");
            return new TimeBound(before, after);
        }

        /// <summary>A duration back from now (30d, 12h) or an ISO-8601 instant with an offset, or a date (midnight UTC).</summary>
        private RelativeTime? ReadRelativeTime(JsonObject o, string key, string path)
        {
            var text = Str(o, key, path, required: false);
            if (text is null) return null;
            if (Durations.TryParse(text, out var ago) && ago > TimeSpan.Zero) return new RelativeTime(null, ago);
            if (Timestamps.TryParseInstant(text, out var at)) return new RelativeTime(at, null);
            if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
                return new RelativeTime(new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), null);
            Problem(path, "must be a duration back from now (like 30d or 12h), a date (2026-12-01) or an ISO-8601 time with an offset", o[key]);
            return null;
        }

        private Reach? ReadReach(JsonObject? o)
        {
            if (o is null) return null;
            var percent = Number(o, "percent", "who.reach.percent");
            if (percent is <= 0 or > 100) Problem("who.reach.percent", "must be more than 0 and at most 100", o["percent"]);
            return new Reach
            {
                Percent = percent,
                Limit = Long(o, "limit", "who.reach.limit", 1),
                DailyLimit = Long(o, "daily_limit", "who.reach.daily_limit", 1),
                RunLimit = Long(o, "run_limit", "who.reach.run_limit", 1),
                SafetyLimit = Long(o, "safety_limit", "who.reach.safety_limit", 1),
            };
        }

        private When? ReadWhen(JsonObject? o)
        {
            if (o is null) return null;
            var at = new List<DateTime>();
            var atNode = o["at"];
            var atNow = false;
            if (atNode is JsonValue nowValue && nowValue.GetValueKind() == JsonValueKind.String && nowValue.GetValue<string>() == "now")
            {
                atNow = true;
                atNode = null;
            }
            if (atNode is JsonValue) atNode = new JsonArray(atNode.DeepClone());
            if (atNode is JsonArray atList)
            {
                for (var i = 0; i < atList.Count; i++)
                {
                    var text = atList[i] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
                    if (text is not null && DateTime.TryParseExact(text, ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var dt))
                        at.Add(dt);
                    else if (text is not null && Timestamps.WhyNotLocal(text) is { } why)
                        Problem($"when.at[{i}]", $"{text}: {why}", atList[i]);
                    else
                        Problem($"when.at[{i}]", "must be a local date and time like 2026-12-01T10:00", atList[i] ?? o["at"]);
                }
            }
            else if (atNode is not null) Problem("when.at", "must be a date-time or a list of them", atNode);

            Recurrence? every = null;
            if (Obj(o["every"], "when.every", required: false, "cron", "until") is { } e)
            {
                var cron = Str(e, "cron", "when.every.cron", required: true);
                if (cron is not null)
                {
                    try { CronExpression.Parse(cron); }
                    catch (CronFormatException ex) { Problem("when.every.cron", $"invalid cron expression: {ex.Message}", e["cron"]); cron = null; }
                }
                DateOnly? until = null;
                if (Str(e, "until", "when.every.until", required: false) is { } u)
                {
                    if (DateOnly.TryParseExact(u, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var ud)) until = ud;
                    else Problem("when.every.until", "must be a date like 2027-03-01", e["until"]);
                }
                if (cron is not null) every = new Recurrence(cron, until);
            }

            var tz = Str(o, "timezone", "when.timezone", required: false);
            if (tz is not null && !TimeZoneInfo.TryFindSystemTimeZoneById(tz, out _))
                Problem("when.timezone", $"unknown time zone '{tz}' (use an IANA name like Asia/Kolkata)", o["timezone"]);

            DeliverIn? deliverIn = Str(o, "deliver_in", "when.deliver_in", required: false) switch
            {
                null => null,
                "user_timezone" => Campaigns.DeliverIn.UserTimezone,
                "campaign_timezone" => Campaigns.DeliverIn.CampaignTimezone,
                _ => Invalid<DeliverIn>("when.deliver_in", "must be one of: user_timezone, campaign_timezone", o["deliver_in"]),
            };

            BestTime? best = null;
            if (Obj(o["best_time"], "when.best_time", required: false, "from", "to", "events") is { } b)
            {
                var from = Time(b, "from", "when.best_time.from", required: true);
                var to = Time(b, "to", "when.best_time.to", required: true);
                var events = new List<string>();
                if (b["events"] is JsonArray list)
                {
                    for (var i = 0; i < list.Count; i++)
                    {
                        if (list[i] is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() is { Length: > 0 } name) events.Add(name);
                        else Problem($"when.best_time.events[{i}]", "must be an event name", list[i] ?? b["events"]);
                    }
                }
                else if (b["events"] is not null) Problem("when.best_time.events", "must be a list of event names", b["events"]);
                if (from is not null && to is not null)
                {
                    if (to <= from) Problem("when.best_time.to", "must be after from", b["to"]);
                    else if (from.Value.Minute != 0 || to.Value.Minute != 0) Problem("when.best_time", "from and to must be whole hours (the best time is an hour)", b);
                    best = new BestTime(from.Value, to.Value, events);
                }
            }

            Late? late = null;
            if (Obj(o["late"], "when.late", required: false, "grace", "then") is { } l)
            {
                var grace = Duration(l, "grace", "when.late.grace", required: false, positive: false) ?? TimeSpan.FromHours(1);
                var then = Str(l, "then", "when.late.then", required: false) switch
                {
                    null or "skip" => LateAction.Skip,
                    "next_day" => LateAction.NextDay,
                    "send_now" => LateAction.SendNow,
                    _ => Invalid<LateAction>("when.late.then", "must be one of: skip, next_day, send_now", l["then"]) ?? LateAction.Skip,
                };
                late = new Late(grace, then);
            }
            var maxLateness = Duration(o, "max_lateness", "when.max_lateness", required: false, positive: false);

            Dnd? dnd = null;
            if (Obj(o["dnd"], "when.dnd", required: false, "from", "to", "action") is { } d)
            {
                var from = Time(d, "from", "when.dnd.from", required: true);
                var to = Time(d, "to", "when.dnd.to", required: true);
                var action = Str(d, "action", "when.dnd.action", required: false) switch
                {
                    null or "delay" => DndAction.Delay,
                    "discard" => DndAction.Discard,
                    _ => Invalid<DndAction>("when.dnd.action", "must be one of: delay, discard", d["action"]) ?? DndAction.Delay,
                };
                if (from is not null && to is not null && from == to) Problem("when.dnd", "from and to must differ", d);
                if (from is not null && to is not null) dnd = new Dnd(from.Value, to.Value, action);
            }

            GlobalLimits? limits = Str(o, "global_limits", "when.global_limits", required: false) switch
            {
                null => null,
                "apply" => Campaigns.GlobalLimits.Apply,
                "ignore" => Campaigns.GlobalLimits.Ignore,
                _ => Invalid<GlobalLimits>("when.global_limits", "must be one of: apply, ignore", o["global_limits"]),
            };

            return new When
            {
                At = at,
                AtNow = atNow,
                Every = every,
                Timezone = tz,
                DeliverIn = deliverIn,
                BestTime = best,
                Late = late,
                MaxLateness = maxLateness,
                Start = Instant(o, "start", "when.start"),
                End = Instant(o, "end", "when.end"),
                Dnd = dnd,
                GlobalLimits = limits,
            };
        }

        private What? ReadWhat(JsonObject? o)
        {
            if (o is null) return null;
            var provider = Str(o, "provider", "what.provider", required: true);
            var from = Str(o, "from", "what.from", required: false);
            var service = Str(o, "messaging_service", "what.messaging_service", required: false);
            if (from is not null && service is not null) Problem("what", "give either from or messaging_service, not both", o);
            var text = Str(o, "text", "what.text", required: true);
            if (text is not null)
            {
                if (string.IsNullOrWhiteSpace(text)) Problem("what.text", "must not be empty", o["text"]);
                var position = doc.PositionOf(o["text"]);
                foreach (var error in Templates.MessageTemplate.Parse(text).Errors)
                {
                    // A template position is inside the text; a YAML position points at the text's start.
                    Problems.Add(new SpecProblem("what.text", error.Line is null ? error.Message : $"{error.Message} (template line {error.Line}, column {error.Column})",
                        position?.Line, position?.Column));
                }
            }
            var maxSegments = Long(o, "max_segments", "what.max_segments", 1);
            if (maxSegments > 10) Problem("what.max_segments", "must be at most 10", o["max_segments"]);
            var smart = Bool(o, "smart_encoding", "what.smart_encoding");
            if (provider is null || text is null) return null;
            return new What { Provider = provider, From = from, MessagingService = service, Text = text, MaxSegments = (int?)maxSegments, SmartEncoding = smart };
        }

        private Goal? ReadGoal(JsonObject? o)
        {
            if (o is null) return null;
            Conversion? conversion = null;
            if (Obj(o["conversion"], "goal.conversion", required: false, "event", "within", "where", "value") is { } c)
            {
                var ev = Str(c, "event", "goal.conversion.event", required: true);
                var within = Duration(c, "within", "goal.conversion.within", required: true, positive: true);
                var where = Conditions(c["where"], "goal.conversion.where");
                var value = Str(c, "value", "goal.conversion.value", required: false);
                if (within > Conversion.LongestWindow)
                    Problem("goal.conversion.within", $"must be at most {Durations.Format(Conversion.LongestWindow)} (attribution keeps exposures no longer)", c["within"]);
                if (ev is not null && within is not null) conversion = new Conversion(ev, within.Value, where, value);
            }
            var control = Number(o, "control_group", "goal.control_group");
            if (control is < 0 or >= 100) Problem("goal.control_group", "must be at least 0 and below 100", o["control_group"]);
            var transactional = Bool(o, "transactional", "goal.transactional");
            return new Goal { Conversion = conversion, ControlGroup = control, Transactional = transactional };
        }

        // ---- typed field readers: each reports its own problem and returns null on failure ----

        private T? Invalid<T>(string path, string message, JsonNode? at) where T : struct
        {
            Problem(path, message, at);
            return null;
        }

        private SegmentNode? InvalidRef(string path, JsonNode? at)
        {
            Problem(path, "must be a saved segment id ([a-z0-9-]+)", at);
            return null;
        }

        private JsonObject? Obj(JsonNode? node, string path, bool required, params string[] allowed)
        {
            if (node is null)
            {
                if (required) Problem(path, "is required");
                return null;
            }
            if (node is not JsonObject o)
            {
                Problem(path, "must be a mapping", node);
                return null;
            }
            foreach (var (key, value) in o)
            {
                if (!allowed.Contains(key))
                    Problem(path == "$" ? key : $"{path}.{key}", $"unknown field (expected one of: {string.Join(", ", allowed)})", value ?? node);
            }
            return o;
        }

        private string? Str(JsonObject o, string key, string path, bool required)
        {
            var node = o[key];
            if (node is null)
            {
                if (required) Problem(path, "is required", o);
                return null;
            }
            if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
            {
                var s = v.GetValue<string>();
                if (required && s.Length == 0) Problem(path, "must not be empty", node);
                return s;
            }
            Problem(path, "must be a string", node);
            return null;
        }

        private double? Number(JsonObject o, string key, string path)
        {
            var node = o[key];
            if (node is null) return null;
            if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
                return double.Parse(v.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);
            Problem(path, "must be a number", node);
            return null;
        }

        private long? Long(JsonObject o, string key, string path, long min)
        {
            var node = o[key];
            if (node is null) return null;
            if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && NumberOf(v) is long l)
            {
                if (l < min) Problem(path, $"must be at least {min}", node);
                return l;
            }
            Problem(path, "must be a whole number", node);
            return null;
        }

        private bool? Bool(JsonObject o, string key, string path)
        {
            var node = o[key];
            if (node is null) return null;
            if (node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False) return v.GetValue<bool>();
            Problem(path, "must be true or false", node);
            return null;
        }

        private TimeSpan? Duration(JsonObject o, string key, string path, bool required, bool positive)
        {
            var text = Str(o, key, path, required);
            if (text is null) return null;
            if (!Durations.TryParse(text, out var value))
            {
                Problem(path, "must be a duration like 30s, 5m, 2h or 7d", o[key]);
                return null;
            }
            if (positive && value <= TimeSpan.Zero) Problem(path, "must be more than zero", o[key]);
            return value;
        }

        private TimeOnly? Time(JsonObject o, string key, string path, bool required)
        {
            var text = Str(o, key, path, required);
            if (text is null) return null;
            if (TimeOnly.TryParseExact(text, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)) return t;
            Problem(path, "must be a time of day like 09:00", o[key]);
            return null;
        }

        private DateTimeOffset? Instant(JsonObject o, string key, string path)
        {
            var text = Str(o, key, path, required: false);
            if (text is null) return null;
            if (Timestamps.TryParseInstant(text, out var value)) return value;
            Problem(path, Timestamps.WhyNotInstant(text) is var why && why.StartsWith("not an ISO", StringComparison.Ordinal)
                ? "must be an ISO-8601 date-time with an offset, like 2026-12-01T00:00Z"
                : $"{text}: {why}", o[key]);
            return null;
        }
    }
}
