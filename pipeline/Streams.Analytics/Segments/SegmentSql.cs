using System.Globalization;
using System.Text;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Core.Segments;

namespace Streams.Analytics.Segments;

public enum SqlDialect { ClickHouse, DuckDb }

/// <summary>
/// Compiles a segment tree to one SQL query returning the ids of its members, for ClickHouse (18.16 and current) and
/// DuckDB. One pass per user: events, the daily rollup and profile updates are read as one stream grouped by user,
/// with an aggregate per condition (a count, a first or last time, a property's latest value), and the tree becomes
/// the outer WHERE over them. A <c>did</c> without <c>where</c> over whole days reads the rollup; one with
/// <c>where</c>, a rolling window or a first/last time reads raw events (only of the names it needs).
/// The members are the users the store knows (any profile update or event). Times compare to the second.
/// </summary>
public sealed class SegmentSql
{
    private readonly SqlDialect _dialect;
    private readonly DateTimeOffset _now;
    private readonly Func<string, SegmentNode?> _resolve;
    private readonly List<string> _aggregates = [];
    private readonly Dictionary<string, (string Raw, string Str)> _props = new(StringComparer.Ordinal);
    private readonly HashSet<string> _rawEvents = new(StringComparer.Ordinal);

    /// <summary>Number text: what counts as a number in a string on both engines.</summary>
    public const string NumberPattern = "^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$";

    /// <summary>A date (midnight UTC) or an ISO-8601 time with an offset.</summary>
    public const string InstantPattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,7})?)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?$";

    private SegmentSql(SqlDialect dialect, DateTimeOffset now, Func<string, SegmentNode?>? resolve)
    {
        _dialect = dialect;
        _now = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds());
        _resolve = resolve ?? (_ => null);
    }

    /// <param name="tables">How table names are written: "db." for ClickHouse, "" for DuckDB.</param>
    /// <param name="resolve">Saved segments by id, for <c>ref</c>; an unknown id or a cycle is a <see cref="SegmentException"/>.</param>
    /// <param name="path">Where the segment sits, for the path a problem names (a campaign's is who.segment).</param>
    public static string Users(SegmentNode segment, SqlDialect dialect, DateTimeOffset now, string tables = "", Func<string, SegmentNode?>? resolve = null,
        string path = "segment")
    {
        var sql = new SegmentSql(dialect, now, resolve);
        var where = sql.Node(segment, path, []);
        return sql.Query(where, tables);
    }

    public static string Count(SegmentNode segment, SqlDialect dialect, DateTimeOffset now, string tables = "", Func<string, SegmentNode?>? resolve = null) =>
        $"SELECT count(*) AS n FROM ({Users(segment, dialect, now, tables, resolve)}) AS members";

    /// <summary>Every user the store knows: an empty <c>all</c>.</summary>
    public static SegmentNode Everyone { get; } = new AllOf([]);

    /// <summary>How many events of this name matching <paramref name="where"/> fell between two instants (both included).</summary>
    /// <param name="members">Count only the events of this segment's members.</param>
    public static string EventCount(string name, IReadOnlyList<Condition> where, DateTimeOffset from, DateTimeOffset to, SqlDialect dialect, string tables = "",
        SegmentNode? members = null, Func<string, SegmentNode?>? resolve = null)
    {
        var sql = new SegmentSql(dialect, to, null);
        var t = sql.Ch ? "toUnixTimestamp(ts)" : "floor(epoch(ts))";
        var filters = string.Concat(where.Select(c => " AND " + sql.Predicate(c, sql.RawOf("props", c.Prop), sql.StrOf("props", c.Prop))));
        var among = members is null ? "" : $" AND user_id IN ({Users(members, dialect, to, tables, resolve)})";
        return $"SELECT count(*) AS n FROM {tables}events WHERE name = {sql.Literal(name)}{filters} AND {t} >= {Seconds(from)} AND {t} <= {Seconds(to)}{among}";
    }

    /// <summary>Each member with the phone, time zone and opt-in ('1', '0', '' when none) of their latest profile updates that have one.</summary>
    public static string Contacts(SegmentNode segment, SqlDialect dialect, DateTimeOffset now, string tables = "", Func<string, SegmentNode?>? resolve = null)
    {
        var members = Users(segment, dialect, now, tables, resolve);
        return dialect == SqlDialect.ClickHouse
            ? $"SELECT user_id, phone, timezone, opt_in FROM ({members}) ANY LEFT JOIN (SELECT user_id, argMaxIf(phone, ts, phone != '') AS phone, argMaxIf(timezone, ts, timezone != '') AS timezone, if(countIf(sms_opt_in != -1) = 0, '', toString(argMaxIf(sms_opt_in, ts, sms_opt_in != -1))) AS opt_in FROM {tables}profiles GROUP BY user_id) USING user_id ORDER BY user_id"
            : $"SELECT m.user_id, coalesce(p.phone, '') AS phone, coalesce(p.timezone, '') AS timezone, coalesce(CAST(p.opt_in AS VARCHAR), '') AS opt_in FROM ({members}) AS m LEFT JOIN (SELECT user_id, arg_max(phone, ts) FILTER (WHERE phone <> '') AS phone, arg_max(timezone, ts) FILTER (WHERE timezone <> '') AS timezone, arg_max(sms_opt_in, ts) FILTER (WHERE sms_opt_in <> -1) AS opt_in FROM {tables}profiles GROUP BY user_id) AS p ON m.user_id = p.user_id ORDER BY m.user_id";
    }

    /// <summary>Every profile update of the members, in user id and then time order (ts as epoch seconds).</summary>
    public static string Profiles(SegmentNode segment, SqlDialect dialect, DateTimeOffset now, string tables = "", Func<string, SegmentNode?>? resolve = null)
    {
        var members = Users(segment, dialect, now, tables, resolve);
        var t = dialect == SqlDialect.ClickHouse ? "toUnixTimestamp(ts)" : "CAST(floor(epoch(ts)) AS BIGINT)";
        var optIn = dialect == SqlDialect.ClickHouse ? "toInt64(sms_opt_in)" : "CAST(sms_opt_in AS BIGINT)";
        return $"SELECT user_id, {t} AS t, phone, timezone, {optIn} AS opt_in, props FROM {tables}profiles WHERE user_id IN ({members}) ORDER BY user_id, ts";
    }

    /// <summary>The members' events per user and UTC quarter-hour of the day, between two instants (both included).</summary>
    public static string Activity(SegmentNode segment, IReadOnlyList<string> events, DateTimeOffset from, DateTimeOffset to, SqlDialect dialect,
        string tables = "", Func<string, SegmentNode?>? resolve = null)
    {
        var sql = new SegmentSql(dialect, to, null);
        var members = Users(segment, dialect, to, tables, resolve);
        var t = sql.Ch ? "toUnixTimestamp(ts)" : "CAST(floor(epoch(ts)) AS BIGINT)";
        var quarter = sql.Ch ? $"toInt64(intDiv({t} % 86400, 900))" : $"CAST(({t} % 86400) // 900 AS BIGINT)";
        var names = events.Count == 0 ? "" : $" AND name IN ({string.Join(", ", events.Select(sql.Literal))})";
        var count = sql.Ch ? "toInt64(count())" : "CAST(count(*) AS BIGINT)";
        return $"SELECT user_id, {quarter} AS q, {count} AS n FROM {tables}events WHERE {t} >= {Seconds(from)} AND {t} <= {Seconds(to)}{names} AND user_id IN ({members}) GROUP BY user_id, q ORDER BY user_id, q";
    }

    /// <summary>Sent and delivered requests of one campaign per run key (the request id's prefix before its dash).</summary>
    public static string RunCounts(string campaignId, SqlDialect dialect, string tables = "")
    {
        var sql = new SegmentSql(dialect, DateTimeOffset.UnixEpoch, null);
        var k = RequestIds.RunKeyLength;
        return sql.Ch
            ? $"SELECT substring(request_id, 1, {k}) AS run, toInt64(uniqExactIf(request_id, status = 'sent')) AS sent, toInt64(uniqExactIf(request_id, status = 'delivered')) AS delivered FROM {tables}results WHERE campaign_id = {sql.Literal(campaignId)} AND position(request_id, '-') = {k + 1} GROUP BY run"
            : $"SELECT substr(request_id, 1, {k}) AS run, CAST(count(DISTINCT request_id) FILTER (WHERE status = 'sent') AS BIGINT) AS sent, CAST(count(DISTINCT request_id) FILTER (WHERE status = 'delivered') AS BIGINT) AS delivered FROM {tables}results WHERE campaign_id = {sql.Literal(campaignId)} AND strpos(request_id, '-') = {k + 1} GROUP BY run";
    }

    private bool Ch => _dialect == SqlDialect.ClickHouse;

    private string Query(string where, string tables)
    {
        var aggregates = _aggregates.Count == 0 ? "" : ", " + string.Join(", ", _aggregates);
        var parts = new List<string>();
        if (_rawEvents.Count > 0)
        {
            var names = string.Join(", ", _rawEvents.Order(StringComparer.Ordinal).Select(Literal));
            parts.Add(Ch
                ? $"SELECT user_id, toUInt8(1) AS src, name, ts, props, toDate('1970-01-01') AS day, toUInt64(0) AS n FROM {tables}events WHERE name IN ({names})"
                : $"SELECT user_id, 1 AS src, name, ts, props, CAST(NULL AS DATE) AS day, CAST(0 AS BIGINT) AS n FROM {tables}events WHERE name IN ({names})");
        }
        parts.Add(Ch
            ? $"SELECT user_id, toUInt8(2) AS src, name, toDateTime('1970-01-01 00:00:00', 'UTC') AS ts, '' AS props, day, toUInt64(n) AS n FROM {tables}events_daily"
            : $"SELECT user_id, 2 AS src, name, CAST(NULL AS TIMESTAMP) AS ts, CAST(NULL AS VARCHAR) AS props, day, CAST(n AS BIGINT) AS n FROM {tables}events_daily");
        parts.Add(Ch
            ? $"SELECT user_id, toUInt8(3) AS src, '' AS name, ts, props, toDate('1970-01-01') AS day, toUInt64(0) AS n FROM {tables}profiles"
            : $"SELECT user_id, 3 AS src, CAST(NULL AS VARCHAR) AS name, ts, props, CAST(NULL AS DATE) AS day, CAST(0 AS BIGINT) AS n FROM {tables}profiles");
        return $"SELECT user_id FROM (SELECT user_id{aggregates} FROM ({string.Join(" UNION ALL ", parts)}) AS history GROUP BY user_id) AS users WHERE {where} ORDER BY user_id";
    }

    private string Node(SegmentNode node, string path, ImmutableStack refs) => node switch
    {
        AllOf { Items.Count: 0 } => "(1 = 1)",
        AnyOf { Items.Count: 0 } => "(1 = 0)",
        AllOf all => "(" + string.Join(" AND ", all.Items.Select((n, i) => Node(n, $"{path}.all[{i}]", refs))) + ")",
        AnyOf any => "(" + string.Join(" OR ", any.Items.Select((n, i) => Node(n, $"{path}.any[{i}]", refs))) + ")",
        NotOf not => $"(NOT {Node(not.Item, path + ".not", refs)})",
        ProfileCondition p => Profile(p.Condition),
        DidCondition did => Did(did),
        SegmentRef r => Ref(r, path, refs),
        _ => throw new SegmentException($"{path}: {node.GetType().Name} cannot be compiled"),
    };

    private string Ref(SegmentRef r, string path, ImmutableStack refs)
    {
        if (refs.Contains(r.Ref)) throw new SegmentException($"{path}.ref: '{r.Ref}' refers back to itself ({string.Join(" → ", refs.Append(r.Ref))})");
        var target = _resolve(r.Ref) ?? throw new SegmentException($"{path}.ref: no saved segment '{r.Ref}'");
        return Node(target, $"{path}.ref({r.Ref})", refs.Push(r.Ref));
    }

    // ---- profile conditions: the latest value of each property over the user's profile updates ----

    private string Profile(Condition c)
    {
        if (!_props.TryGetValue(c.Prop, out var columns))
        {
            var n = _props.Count;
            columns = ($"pr{n}", $"ps{n}");
            _props[c.Prop] = columns;
            var (raw, str, has) = (RawOf("props", c.Prop), StrOf("props", c.Prop), HasOf("props", c.Prop));
            _aggregates.Add(Ch
                ? $"argMaxIf({raw}, ts, src = 3 AND {has}) AS {columns.Raw}"
                : $"coalesce(arg_max({raw}, ts) FILTER (WHERE src = 3 AND {has}), '') AS {columns.Raw}");
            _aggregates.Add(Ch
                ? $"argMaxIf({str}, ts, src = 3 AND {has}) AS {columns.Str}"
                : $"coalesce(arg_max({str}, ts) FILTER (WHERE src = 3 AND {has}), '') AS {columns.Str}");
        }
        return Predicate(c, columns.Raw, columns.Str);
    }

    // ---- did ----

    private string Did(DidCondition did)
    {
        var n = _aggregates.Count;
        var name = $"name = {Literal(did.Event)}";
        var rawNeeded = did.Where.Count > 0 || did.Within is { } w0 && !Window.WholeDays(w0) || did.FirstTime is not null || did.LastTime is not null;
        var matches = name + string.Concat(did.Where.Select(c => " AND " + Predicate(c, RawOf("props", c.Prop), StrOf("props", c.Prop))));
        string count;
        if (rawNeeded)
        {
            _rawEvents.Add(did.Event);
            var window = did.Within is { } w ? " AND " + RawWindow(w) : "";
            count = $"c{n}";
            _aggregates.Add(Ch ? $"countIf(src = 1 AND {matches}{window}) AS {count}" : $"count(*) FILTER (WHERE src = 1 AND {matches}{window}) AS {count}");
        }
        else
        {
            var window = did.Within is { } w ? " AND " + DayWindow(w) : "";
            count = $"c{n}";
            _aggregates.Add(Ch ? $"sumIf(n, src = 2 AND {name}{window}) AS {count}" : $"coalesce(sum(n) FILTER (WHERE src = 2 AND {name}{window}), 0) AS {count}");
        }
        var terms = new List<string> { InRange(count, did.Count) };
        if (did.FirstTime is not null || did.LastTime is not null)
        {
            var ever = $"e{n}";
            _aggregates.Add(Ch ? $"countIf(src = 1 AND {matches}) AS {ever}" : $"count(*) FILTER (WHERE src = 1 AND {matches}) AS {ever}");
            terms.Add($"{ever} > 0");
            if (did.FirstTime is { } first) terms.Add(Bound($"f{n}", "min", first, matches));
            if (did.LastTime is { } last) terms.Add(Bound($"l{n}", "max", last, matches));
        }
        return "(" + string.Join(" AND ", terms) + ")";
    }

    private string Bound(string column, string fn, TimeBound bound, string matches)
    {
        _aggregates.Add(Ch
            ? $"{fn}If(toUnixTimestamp(ts), src = 1 AND {matches}) AS {column}"
            : $"{fn}(floor(epoch(ts))) FILTER (WHERE src = 1 AND {matches}) AS {column}");
        var terms = new List<string>();
        if (bound.Before is { } b) terms.Add($"{column} < {Seconds(b.Resolve(_now))}");
        if (bound.After is { } a) terms.Add($"{column} >= {Seconds(a.Resolve(_now))}");
        return "(" + string.Join(" AND ", terms) + ")";
    }

    private static string InRange(string n, CountRange? range)
    {
        if (range is null) return $"{n} >= 1";
        var terms = new List<string>();
        if (range.Eq is { } eq) terms.Add($"{n} = {eq}");
        if (range.Gte is { } gte) terms.Add($"{n} >= {gte}");
        if (range.Lte is { } lte) terms.Add($"{n} <= {lte}");
        if (range.Gt is { } gt) terms.Add($"{n} > {gt}");
        if (range.Lt is { } lt) terms.Add($"{n} < {lt}");
        return terms.Count == 0 ? "1 = 1" : "(" + string.Join(" AND ", terms) + ")";
    }

    private string DayWindow(TimeSpan within)
    {
        var (from, to) = Window.Days(within, _now);
        return $"day >= {Date(from)} AND day <= {Date(to)}";
    }

    private string RawWindow(TimeSpan within)
    {
        if (Window.WholeDays(within))
        {
            var (from, to) = Window.Days(within, _now);
            var day = Ch ? "toDate(ts)" : "CAST(ts AS DATE)";
            return $"{day} >= {Date(from)} AND {day} <= {Date(to)}";
        }
        var t = Ch ? "toUnixTimestamp(ts)" : "floor(epoch(ts))";
        return $"{t} >= {Seconds(_now - within)} AND {t} <= {Seconds(_now)}";
    }

    private string Date(int day)
    {
        var text = DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + day).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return Ch ? $"toDate('{text}')" : $"DATE '{text}'";
    }

    private static string Seconds(DateTimeOffset t) => t.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    // ---- property predicates, the same meaning as ConditionEvaluator ----

    /// <summary>
    /// <paramref name="raw"/> is the property's JSON text ('' when absent), <paramref name="str"/> its text when it is a
    /// JSON string. Numbers compare as numbers (a numeric string counts), dates and ISO-8601 instants as instants,
    /// other strings by their bytes; a missing (or null) property satisfies only ne and exists: false.
    /// </summary>
    private string Predicate(Condition c, string raw, string str)
    {
        var present = $"({raw} <> '' AND {raw} <> 'null')";
        var isStr = $"substr({raw}, 1, 1) = '\"'";
        var isBool = $"{raw} IN ('true', 'false')";
        switch (c.Op)
        {
            case ConditionOp.Exists:
                return c.Value is false ? $"(NOT {present})" : present;
            case ConditionOp.Ne:
                return $"(NOT {present} OR NOT {Equal(c.Value, raw, str, isStr, isBool)})";
        }
        var test = c.Op switch
        {
            ConditionOp.Eq => Equal(c.Value, raw, str, isStr, isBool),
            ConditionOp.In => c.Value is IEnumerable<object?> list ? "(" + string.Join(" OR ", list.Select(v => Equal(v, raw, str, isStr, isBool))) + ")" : "1 = 0",
            ConditionOp.Contains => c.Value is null ? "1 = 0" : Ch
                ? $"({isStr} AND positionCaseInsensitiveUTF8({str}, {Literal(Text(c.Value))}) > 0)"
                : $"({isStr} AND contains(lower({str}), lower({Literal(Text(c.Value))})))",
            ConditionOp.Gt => Compare(c.Value, ">", raw, str, isStr, isBool),
            ConditionOp.Gte => Compare(c.Value, ">=", raw, str, isStr, isBool),
            ConditionOp.Lt => Compare(c.Value, "<", raw, str, isStr, isBool),
            ConditionOp.Lte => Compare(c.Value, "<=", raw, str, isStr, isBool),
            ConditionOp.WithinNext when c.Value is TimeSpan ahead =>
                $"({isStr} AND {Instant(str)} >= {Seconds(_now)} AND {Instant(str)} <= {Seconds(_now + ahead)})",
            ConditionOp.WithinLast when c.Value is TimeSpan back =>
                $"({isStr} AND {Instant(str)} >= {Seconds(_now - back)} AND {Instant(str)} <= {Seconds(_now)})",
            _ => "1 = 0",
        };
        return $"({present} AND {Sure(test)})";
    }

    private string Equal(object? value, string raw, string str, string isStr, string isBool) => Sure(value switch
    {
        null => "1 = 0",
        bool b => $"(({raw} = {Literal(b ? "true" : "false")}) OR ({isStr} AND {Lower(str)} = {Literal(b ? "true" : "false")}))",
        long or double => $"(NOT {isBool} AND {Number(raw, str, isStr)} = {NumberText(value)})",
        string s when IsNumber(s) => $"(NOT {isBool} AND {Number(raw, str, isStr)} = {NumberText(ParseNumber(s))})",
        string s when InstantOf(s) is { } t => $"({isStr} AND {Instant(str)} = {Seconds(t)})",
        string s => s.ToLowerInvariant() is "true" or "false"
            ? $"(({isBool} AND {raw} = {Literal(s.ToLowerInvariant())}) OR ({isStr} AND {str} = {Literal(s)}))"
            : $"(NOT {isBool} AND (CASE WHEN {isStr} THEN {str} ELSE {raw} END) = {Literal(s)})",
        _ => "1 = 0",
    });

    private string Compare(object? value, string op, string raw, string str, string isStr, string isBool) => Sure(value switch
    {
        long or double => $"(NOT {isBool} AND {Number(raw, str, isStr)} {op} {NumberText(value)})",
        string s when IsNumber(s) =>
            $"(NOT {isBool} AND (CASE WHEN {Number(raw, str, isStr)} IS NOT NULL THEN {Number(raw, str, isStr)} {op} {NumberText(ParseNumber(s))} WHEN {isStr} THEN {str} {op} {Literal(s)} ELSE 1 = 0 END))",
        string s when InstantOf(s) is { } t =>
            $"({isStr} AND (CASE WHEN {Instant(str)} IS NOT NULL THEN {Instant(str)} {op} {Seconds(t)} ELSE {str} {op} {Literal(s)} END))",
        string s => $"({isStr} AND {str} {op} {Literal(s)})",
        _ => "1 = 0",
    });

    /// <summary>NULL (a value that is not a number or an instant) as false, so NOT and OR treat it as a plain no.</summary>
    private string Sure(string test) => Ch ? $"ifNull({test}, 0)" : $"coalesce({test}, false)";

    /// <summary>The property as a number: a JSON number, or a JSON string of number text; else NULL.</summary>
    private string Number(string raw, string str, string isStr)
    {
        var text = $"(CASE WHEN {isStr} THEN {str} ELSE {raw} END)";
        return Ch
            ? $"toFloat64OrNull(if(match({text}, {Literal(NumberPattern)}), {text}, 'x'))"
            : $"TRY_CAST(CASE WHEN regexp_full_match({text}, {Literal(NumberPattern)}) THEN {text} END AS DOUBLE)";
    }

    /// <summary>A date or an ISO-8601 instant with an offset as Unix seconds; else NULL.</summary>
    private string Instant(string str) => Ch
        ? $"(CASE WHEN NOT match({str}, {Literal(InstantPattern)}) THEN NULL ELSE toUnixTimestamp(parseDateTimeBestEffortOrNull(if(length({str}) = 10, concat({str}, 'T00:00:00Z'), replaceRegexpOne({str}, 'z$', 'Z')))) END)"
        : $"(CASE WHEN NOT regexp_full_match({str}, {Literal(InstantPattern)}) THEN NULL WHEN length({str}) = 10 THEN epoch(TRY_CAST({str} AS DATE)) ELSE epoch(TRY_CAST(replace(replace({str}, 'z', 'Z'), 'T', ' ') AS TIMESTAMPTZ)) END)";

    private string Lower(string x) => Ch ? $"lowerUTF8({x})" : $"lower({x})";

    /// <summary>
    /// The key as the stored JSON spells it: props are written with System.Text.Json's default escaping (città is
    /// "citt\u00E0"), and ClickHouse's visitParam functions match the key's bytes without decoding escapes.
    /// </summary>
    private static string StoredKey(string prop) => System.Text.Json.JsonSerializer.Serialize(prop)[1..^1];

    private string RawOf(string json, string prop) => Ch
        ? $"visitParamExtractRaw({json}, {Literal(StoredKey(prop))})"
        : $"coalesce(CAST(json_extract({json}, {Literal(JsonPath(prop))}) AS VARCHAR), '')";

    private string StrOf(string json, string prop) => Ch
        ? $"visitParamExtractString({json}, {Literal(StoredKey(prop))})"
        : $"coalesce(json_extract_string({json}, {Literal(JsonPath(prop))}), '')";

    private string HasOf(string json, string prop) => Ch
        ? $"visitParamHas({json}, {Literal(StoredKey(prop))})"
        : $"json_extract({json}, {Literal(JsonPath(prop))}) IS NOT NULL";

    private static string JsonPath(string prop) => "$.\"" + prop.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private string Literal(string value) => Ch ? ClickHouseStore.Literal(value) : "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static bool IsNumber(string s) => System.Text.RegularExpressions.Regex.IsMatch(s, NumberPattern);

    private static double ParseNumber(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static string NumberText(object n) => n switch
    {
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => throw new ArgumentException("not a number"),
    };

    /// <summary>A literal the compiled query takes as an instant: the filters' own reading, of the text the SQL side also reads.</summary>
    private static DateTimeOffset? InstantOf(string s) =>
        System.Text.RegularExpressions.Regex.IsMatch(s, InstantPattern) ? ConditionEvaluator.InstantOf(s) : null;

    private static string Text(object v) => ConditionEvaluator.Text(v);

    /// <summary>The saved segments being expanded, innermost first, to refuse a cycle with its path.</summary>
    private sealed class ImmutableStack : List<string>
    {
        public ImmutableStack Push(string id)
        {
            var next = new ImmutableStack();
            next.AddRange(this);
            next.Add(id);
            return next;
        }
    }
}

/// <summary>A segment that cannot be compiled: an unknown saved segment or a cycle of them, with its path.</summary>
public sealed class SegmentException(string message) : Exception(message);
