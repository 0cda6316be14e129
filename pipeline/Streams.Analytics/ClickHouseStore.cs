using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Streams.Core;

namespace Streams.Analytics;

/// <summary>
/// A thin client over ClickHouse's HTTP interface. ClickHouse.Driver cannot be used: it sends a
/// setting and reads a format that ClickHouse 18.16 (Debian's package) does not know. DDL and
/// SQL here run on 18.16 and on current releases: no DateTime64, Map, JSON type or query parameters.
/// </summary>
public sealed class ClickHouseStore(HttpClient http, string database) : IAnalyticsStore
{
    private static readonly string[] Ddl =
    [
        """
        CREATE TABLE IF NOT EXISTS {db}.events (
          user_id String, name String, ts DateTime('UTC'), props String
        ) ENGINE = MergeTree() PARTITION BY toYYYYMM(ts) ORDER BY (user_id, ts, name)
        """,
        """
        CREATE TABLE IF NOT EXISTS {db}.profiles (
          user_id String, ts DateTime('UTC'), phone String, timezone String, sms_opt_in Int8, props String
        ) ENGINE = MergeTree() PARTITION BY toYYYYMM(ts) ORDER BY (user_id, ts)
        """,
        """
        CREATE TABLE IF NOT EXISTS {db}.results (
          request_id String, message_id String, campaign_id String, user_id String, status String, reason String,
          provider String, segments UInt16, encoding String, ts DateTime('UTC')
        ) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(ts) ORDER BY (campaign_id, request_id, status)
        """,
        """
        CREATE TABLE IF NOT EXISTS {db}.properties (kind String, event String, name String)
        ENGINE = ReplacingMergeTree() ORDER BY (kind, event, name)
        """,
        """
        CREATE TABLE IF NOT EXISTS {db}.requests (
          request_id String, campaign_id String, user_id String, trigger String, trigger_ts DateTime('UTC'), ts DateTime('UTC'),
          due_at DateTime('UTC'), cause String
        ) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(ts) ORDER BY (campaign_id, user_id, request_id, due_at)
        """,
        """
        CREATE TABLE IF NOT EXISTS {db}.conversions (
          campaign_id String, user_id String, request_id String, run_key String, cohort String, exposed_at DateTime('UTC'),
          event String, ts DateTime('UTC'), value Float64, last_touch UInt8
        ) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(exposed_at) ORDER BY (campaign_id, request_id)
        """,
    ];

    /// <summary>
    /// Tables a materialized view keeps from results: what the view's SELECT makes of a row, the table, and the view.
    /// On the first start with a view, the view is made first and then the table filled from the results already stored:
    /// a row inserted in between lands twice, which neither table counts twice (ReplacingMergeTree by request, uniqExact states).
    /// </summary>
    private static readonly (string Name, string Table, string Select)[] Views =
    [
        ("exposures",
         """
         CREATE TABLE IF NOT EXISTS {db}.exposures (campaign_id String, request_id String, user_id String, cohort String, ts DateTime('UTC'))
         ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(ts) ORDER BY (campaign_id, request_id)
         """,
         """
         SELECT campaign_id, request_id, user_id,
           if(status = 'suppressed', if(reason = 'control_group', 'control', 'global_control'), 'treatment') AS cohort, ts
         FROM {db}.results WHERE status IN ('sent', 'failed', 'ambiguous') OR (status = 'suppressed' AND reason IN ('control_group', 'global_control'))
         """),
        ("campaign_daily",
         """
         CREATE TABLE IF NOT EXISTS {db}.campaign_daily (
           campaign_id String, quarter DateTime('UTC'), status String, reason String, requests AggregateFunction(uniqExact, String)
         ) ENGINE = AggregatingMergeTree() PARTITION BY toYYYYMM(quarter) ORDER BY (campaign_id, quarter, status, reason)
         """,
         """
         SELECT campaign_id, toStartOfFifteenMinutes(ts) AS quarter, status, reason, uniqExactState(request_id) AS requests
         FROM {db}.results GROUP BY campaign_id, quarter, status, reason
         """),
    ];

    /// <summary>
    /// Events per user, name and UTC day, kept by a materialized view as events are inserted: what a segment's
    /// <c>did</c> without <c>where</c> reads instead of the raw events. Parts are summed on merge; readers sum too.
    /// </summary>
    private const string RollupDdl = """
        CREATE TABLE IF NOT EXISTS {db}.events_daily (user_id String, name String, day Date, n UInt64)
        ENGINE = SummingMergeTree() PARTITION BY toYYYYMM(day) ORDER BY (user_id, name, day)
        """;

    private const string RollupView = """
        CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.events_daily_mv TO {db}.events_daily
        AS SELECT user_id, name, toDate(ts) AS day, count() AS n FROM {db}.events GROUP BY user_id, name, day
        """;

    private readonly string _db = Identifier(database);

    /// <remarks>
    /// ClickHouse closes an idle keep-alive connection after keep_alive_timeout (3 s by default); a pooled connection
    /// kept longer than that is reused just as the server closes it, and the request fails with "the response ended
    /// prematurely". Idle connections are dropped here before the server's default.
    /// </remarks>
    public static ClickHouseStore Create(string url, string database, TimeSpan? timeout = null) =>
        new(new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(2) })
        {
            BaseAddress = new Uri(url.TrimEnd('/') + "/"),
            Timeout = timeout ?? TimeSpan.FromSeconds(30),
        }, database);

    public async Task MigrateAsync(CancellationToken ct = default)
    {
        await ExecuteAsync($"CREATE DATABASE IF NOT EXISTS {_db}", ct);
        foreach (var ddl in Ddl) await ExecuteAsync(ddl.Replace("{db}", _db, StringComparison.Ordinal), ct);
        var rollup = await QueryAsync($"SELECT count() AS n FROM system.tables WHERE database = {Literal(_db)} AND name = 'events_daily_mv'", ct);
        if (Num(rollup[0], "n") == 0)
        {
            // First start with the rollup: it is built from the events already stored, then the view keeps it.
            await ExecuteAsync(RollupDdl.Replace("{db}", _db, StringComparison.Ordinal), ct);
            await ExecuteAsync($"INSERT INTO {_db}.events_daily SELECT user_id, name, toDate(ts) AS day, count() AS n FROM {_db}.events GROUP BY user_id, name, day", ct);
            await ExecuteAsync(RollupView.Replace("{db}", _db, StringComparison.Ordinal), ct);
        }
        foreach (var (name, table, select) in Views)
        {
            var view = await QueryAsync($"SELECT count() AS n FROM system.tables WHERE database = {Literal(_db)} AND name = {Literal(name + "_mv")}", ct);
            if (Num(view[0], "n") > 0) continue;
            var query = select.Replace("{db}", _db, StringComparison.Ordinal);
            await ExecuteAsync(table.Replace("{db}", _db, StringComparison.Ordinal), ct);
            await ExecuteAsync($"CREATE MATERIALIZED VIEW IF NOT EXISTS {_db}.{name}_mv TO {_db}.{name} AS {query}", ct);
            await ExecuteAsync($"INSERT INTO {_db}.{name} {query}", ct);
        }
    }

    public Task InsertRequestsAsync(IReadOnlyList<RequestRow> requests, CancellationToken ct = default) =>
        InsertAsync("requests", requests.Select(r => new JsonObject
        {
            ["request_id"] = r.RequestId, ["campaign_id"] = r.CampaignId, ["user_id"] = r.UserId, ["trigger"] = r.Trigger,
            ["trigger_ts"] = Time(r.TriggerTs ?? DateTimeOffset.UnixEpoch), ["ts"] = Time(r.Ts), ["due_at"] = Time(r.DueAt ?? DateTimeOffset.UnixEpoch), ["cause"] = r.Cause,
        }), ct);

    public Task InsertConversionsAsync(IReadOnlyList<ConversionRecord> conversions, CancellationToken ct = default) =>
        InsertAsync("conversions", conversions.Select(c => new JsonObject
        {
            ["campaign_id"] = c.CampaignId, ["user_id"] = c.UserId, ["request_id"] = c.RequestId, ["run_key"] = c.RunKey ?? "", ["cohort"] = c.Cohort,
            ["exposed_at"] = Time(c.ExposedAt), ["event"] = c.Event, ["ts"] = Time(c.Ts), ["value"] = c.Value ?? 0, ["last_touch"] = c.LastTouch ? 1 : 0,
        }), ct);

    public async Task<Reports.ReportRows> ReportRowsAsync(Reports.ReportFilter filter, CancellationToken ct = default)
    {
        var sql = ReportSql;
        var qualified = await QualifiedAsync(filter, ct);
        var statuses = await StatusesAsync(filter, ct);
        var costs = (await QueryAsync(sql.Costs(filter), ct)).Select(r => new Reports.CostRow(Str(r, "campaign_id"), Str(r, "encoding"), Num(r, "messages"), Num(r, "segments"))).ToList();
        var daily = (await QueryAsync(sql.Daily(filter), ct)).Select(r => new Reports.QuarterRow(Str(r, "campaign_id"), Str(r, "status"), Num(r, "q"), Num(r, "n"))).ToList();
        var exposures = (await QueryAsync(sql.Exposures(filter), ct)).Select(r => new Reports.CohortRow(Str(r, "campaign_id"), Str(r, "cohort"), Num(r, "n"), Num(r, "users"), 0)).ToList();
        var conversions = (await QueryAsync(sql.Conversions(filter), ct))
            .Select(r => new Reports.CohortRow(Str(r, "campaign_id"), Str(r, "cohort"), Num(r, "n"), Num(r, "users"), r["revenue"]?.GetValue<double>() ?? 0)).ToList();
        var dailyConversions = (await QueryAsync(sql.DailyConversions(filter), ct)).Select(r => new Reports.QuarterRow(Str(r, "campaign_id"), "converted", Num(r, "q"), Num(r, "n"))).ToList();
        return new Reports.ReportRows(qualified, statuses, costs, daily, exposures, conversions, dailyConversions);
    }

    public async Task<Story> StoryAsync(string? campaignId, string? userId, string? requestId, CancellationToken ct = default)
    {
        var where = Reports.StorySql.Where(campaignId, userId, requestId, Literal);
        var requests = (await QueryAsync($"SELECT request_id, campaign_id, user_id, trigger, toInt64(toUnixTimestamp(trigger_ts)) AS tt, toInt64(toUnixTimestamp(ts)) AS t, toInt64(toUnixTimestamp(due_at)) AS due, cause FROM {_db}.requests WHERE {where} ORDER BY ts, due_at", ct))
            .Select(r => new RequestRow(Str(r, "request_id"), Str(r, "campaign_id"), Str(r, "user_id"), Str(r, "trigger"), Epoch(Num(r, "tt")), DateTimeOffset.FromUnixTimeSeconds(Num(r, "t")),
                Epoch(Num(r, "due")), Str(r, "cause"))).Distinct().ToList();
        var results = (await QueryAsync($"SELECT DISTINCT request_id, message_id, campaign_id, user_id, status, reason, provider, toInt64(segments) AS segments, encoding, toInt64(toUnixTimestamp(ts)) AS t FROM {_db}.results WHERE {where} ORDER BY t, status", ct))
            .Select(r => new SmsResult(Str(r, "request_id"), NullIfEmpty(Str(r, "message_id")), Str(r, "campaign_id"), Str(r, "user_id"), Str(r, "status"), NullIfEmpty(Str(r, "reason")),
                NullIfEmpty(Str(r, "provider")), (int)Num(r, "segments"), NullIfEmpty(Str(r, "encoding")), DateTimeOffset.FromUnixTimeSeconds(Num(r, "t")))).ToList();
        var conversions = (await QueryAsync($"SELECT DISTINCT campaign_id, user_id, request_id, run_key, cohort, toInt64(toUnixTimestamp(exposed_at)) AS x, event, toInt64(toUnixTimestamp(ts)) AS t, value, last_touch FROM {_db}.conversions WHERE {where} ORDER BY t", ct))
            .Select(r => new ConversionRecord(Str(r, "campaign_id"), Str(r, "user_id"), Str(r, "request_id"), NullIfEmpty(Str(r, "run_key")), Str(r, "cohort"),
                DateTimeOffset.FromUnixTimeSeconds(Num(r, "x")), Str(r, "event"), DateTimeOffset.FromUnixTimeSeconds(Num(r, "t")), r["value"]?.GetValue<double>(), Num(r, "last_touch") == 1)).ToList();
        return new Story(requests, results, conversions);
    }

    private static DateTimeOffset? Epoch(long seconds) => seconds == 0 ? null : DateTimeOffset.FromUnixTimeSeconds(seconds);

    public async Task<IReadOnlyList<string>> SegmentUsersAsync(Core.Campaigns.SegmentNode segment, DateTimeOffset now,
        Func<string, Core.Campaigns.SegmentNode?>? resolve = null, CancellationToken ct = default) =>
        (await QueryAsync(Segments.SegmentSql.Users(segment, Segments.SqlDialect.ClickHouse, now, _db + ".", resolve), ct)).Select(r => Str(r, "user_id")).ToList();

    public async Task<IReadOnlyList<Contact>> SegmentContactsAsync(Core.Campaigns.SegmentNode segment, DateTimeOffset now,
        Func<string, Core.Campaigns.SegmentNode?>? resolve = null, CancellationToken ct = default) =>
        (await QueryAsync(Segments.SegmentSql.Contacts(segment, Segments.SqlDialect.ClickHouse, now, _db + ".", resolve), ct))
            .Select(r => new Contact(Str(r, "user_id"), Str(r, "phone"), Str(r, "timezone"), Contact.OptInOf(Str(r, "opt_in")))).ToList();

    public async Task<long> EventCountAsync(string name, IReadOnlyList<Core.Campaigns.Condition> where, DateTimeOffset from, DateTimeOffset to,
        Core.Campaigns.SegmentNode? members = null, Func<string, Core.Campaigns.SegmentNode?>? resolve = null, CancellationToken ct = default) =>
        Num((await QueryAsync(Segments.SegmentSql.EventCount(name, where, from, to, Segments.SqlDialect.ClickHouse, _db + ".", members, resolve), ct))[0], "n");

    public async Task<long> SegmentCountAsync(Core.Campaigns.SegmentNode segment, DateTimeOffset now,
        Func<string, Core.Campaigns.SegmentNode?>? resolve = null, CancellationToken ct = default) =>
        Num((await QueryAsync(Segments.SegmentSql.Count(segment, Segments.SqlDialect.ClickHouse, now, _db + ".", resolve), ct))[0], "n");

    public IAsyncEnumerable<Profile> SegmentProfilesAsync(Core.Campaigns.SegmentNode segment, DateTimeOffset now,
        Func<string, Core.Campaigns.SegmentNode?>? resolve = null, CancellationToken ct = default) =>
        ProfileFold.Fold(ProfileRowsAsync(Segments.SegmentSql.Profiles(segment, Segments.SqlDialect.ClickHouse, now, _db + ".", resolve), ct));

    private async IAsyncEnumerable<ProfileUpdate> ProfileRowsAsync(string sql, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var r in StreamAsync(sql, ct))
        {
            yield return new ProfileUpdate(Str(r, "user_id"), DateTimeOffset.FromUnixTimeSeconds(Num(r, "t")),
                NullIfEmpty(Str(r, "phone")), NullIfEmpty(Str(r, "timezone")),
                Num(r, "opt_in") switch { 1 => true, 0 => false, _ => null }, Funnel.PropsFromJson(Str(r, "props")));
        }
    }

    public async Task<IReadOnlyList<Activity>> ActivityAsync(Core.Campaigns.SegmentNode segment, IReadOnlyList<string> events, DateTimeOffset from, DateTimeOffset to,
        Func<string, Core.Campaigns.SegmentNode?>? resolve = null, CancellationToken ct = default) =>
        (await QueryAsync(Segments.SegmentSql.Activity(segment, events, from, to, Segments.SqlDialect.ClickHouse, _db + ".", resolve), ct))
            .Select(r => new Activity(Str(r, "user_id"), (int)Num(r, "q"), Num(r, "n"))).ToList();

    public async Task<IReadOnlyDictionary<string, RunCounts>> RunCountsAsync(string campaignId, CancellationToken ct = default) =>
        (await QueryAsync(Segments.SegmentSql.RunCounts(campaignId, Segments.SqlDialect.ClickHouse, _db + "."), ct))
            .ToDictionary(r => Str(r, "run"), r => new RunCounts(Num(r, "sent"), Num(r, "delivered")), StringComparer.Ordinal);

    /// <summary>A query's rows read one line at a time as ClickHouse sends them (JSONEachRow), never the whole answer at once.</summary>
    private async IAsyncEnumerable<JsonObject> StreamAsync(string sql, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        using var content = new StringContent(sql + " FORMAT JSONEachRow", Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        using var request = new HttpRequestMessage(HttpMethod.Post, "") { Content = content };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            throw Refused(response, text);
        }
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct), Encoding.UTF8);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Length == 0) continue;
            // An error midway comes as plain text after the rows sent so far.
            if (JsonNode.Parse(line) is JsonObject row) yield return row;
        }
    }

    public Task InsertEventsAsync(IReadOnlyList<UserEvent> events, CancellationToken ct = default) =>
        InsertAsync("events", events.Select(e => new JsonObject
        {
            ["user_id"] = e.UserId, ["name"] = e.Name, ["ts"] = Time(e.Ts), ["props"] = Funnel.PropsJson(e.Props),
        }), ct);

    public Task InsertProfilesAsync(IReadOnlyList<ProfileUpdate> profiles, CancellationToken ct = default) =>
        InsertAsync("profiles", profiles.Select(p => new JsonObject
        {
            ["user_id"] = p.UserId, ["ts"] = Time(p.Ts), ["phone"] = p.Phone ?? "", ["timezone"] = p.Timezone ?? "",
            ["sms_opt_in"] = p.SmsOptIn switch { true => 1, false => 0, null => -1 },
            ["props"] = Funnel.PropsJson(p.Props ?? Props.Empty),
        }), ct);

    public Task InsertResultsAsync(IReadOnlyList<SmsResult> results, CancellationToken ct = default) =>
        InsertAsync("results", results.Select(r => new JsonObject
        {
            ["request_id"] = r.RequestId, ["message_id"] = r.MessageId ?? "", ["campaign_id"] = r.CampaignId, ["user_id"] = r.UserId,
            ["status"] = r.Status, ["reason"] = r.Reason ?? "", ["provider"] = r.Provider ?? "", ["segments"] = r.Segments,
            ["encoding"] = r.Encoding ?? "", ["ts"] = Time(r.Ts),
        }), ct);

    /// <summary>The report's own funnel queries (qualified and statuses), without the rest of the report.</summary>
    public async Task<IReadOnlyList<FunnelRow>> FunnelAsync(string? campaignId = null, CancellationToken ct = default)
    {
        var filter = new Reports.ReportFilter(campaignId);
        return Funnel.Build(await QualifiedAsync(filter, ct), await StatusesAsync(filter, ct));
    }

    private async Task<List<(string, long)>> QualifiedAsync(Reports.ReportFilter filter, CancellationToken ct) =>
        (await QueryAsync(ReportSql.Qualified(filter), ct)).Select(r => (Str(r, "campaign_id"), Num(r, "n"))).ToList();

    private async Task<List<Funnel.StatusCount>> StatusesAsync(Reports.ReportFilter filter, CancellationToken ct) =>
        (await QueryAsync(ReportSql.Statuses(filter), ct)).Select(r => new Funnel.StatusCount(Str(r, "campaign_id"), Str(r, "status"), Str(r, "reason"), Num(r, "n"))).ToList();

    private Reports.ReportSql ReportSql => new(Segments.SqlDialect.ClickHouse, _db + ".");

    public Task InsertPropertiesAsync(IReadOnlyList<PropertyKey> keys, CancellationToken ct = default) =>
        InsertAsync("properties", keys.Select(k => new JsonObject { ["kind"] = k.Kind, ["event"] = k.Event, ["name"] = k.Name }), ct);

    public async Task<IReadOnlyList<PropertyKey>> KnownPropertiesAsync(CancellationToken ct = default) =>
        (await QueryAsync($"SELECT DISTINCT kind, event, name FROM {_db}.properties", ct))
            .Select(r => new PropertyKey(Str(r, "kind"), Str(r, "event"), Str(r, "name"))).ToList();

    public async Task<IReadOnlyList<ProfileUpdate>> ProfileUpdatesAsync(string userId, CancellationToken ct = default) =>
        (await QueryAsync($"SELECT user_id, toUnixTimestamp(ts) AS t, phone, timezone, sms_opt_in, props FROM {_db}.profiles WHERE user_id = {Literal(userId)} ORDER BY ts", ct))
            .Select(r => new ProfileUpdate(Str(r, "user_id"), DateTimeOffset.FromUnixTimeSeconds(Num(r, "t")),
                NullIfEmpty(Str(r, "phone")), NullIfEmpty(Str(r, "timezone")),
                Num(r, "sms_opt_in") switch { 1 => true, 0 => false, _ => null }, Funnel.PropsFromJson(Str(r, "props"))))
            .ToList();

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    /// <summary>A string literal in ClickHouse SQL: backslash and quote escaped, so user text never becomes SQL.</summary>
    public static string Literal(string value)
    {
        var sb = new StringBuilder(value.Length + 2).Append('\'');
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '\'': sb.Append(@"\'"); break;
                case '\0': sb.Append(@"\0"); break;
                case '\n': sb.Append(@"\n"); break;
                case '\r': sb.Append(@"\r"); break;
                case '\t': sb.Append(@"\t"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.Append('\'').ToString();
    }

    public static string Identifier(string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && !char.IsAsciiDigit(name[0])
            ? name
            : throw new ArgumentException($"'{name}' is not a valid ClickHouse database name ([A-Za-z_][A-Za-z0-9_]*)");

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private async Task InsertAsync(string table, IEnumerable<JsonObject> rows, CancellationToken ct)
    {
        var body = new StringBuilder();
        foreach (var row in rows) body.Append(row.ToJsonString()).Append('\n');
        if (body.Length == 0) return;
        await PostAsync($"INSERT INTO {_db}.{table} FORMAT JSONEachRow", body.ToString(), ct);
    }

    private Task ExecuteAsync(string sql, CancellationToken ct) => PostAsync(null, sql, ct);

    private async Task<List<JsonObject>> QueryAsync(string sql, CancellationToken ct)
    {
        var text = await PostAsync(null, sql + " FORMAT JSON", ct);
        var data = JsonNode.Parse(text)?["data"]?.AsArray() ?? [];
        return data.OfType<JsonObject>().ToList();
    }

    private async Task<string> PostAsync(string? query, string body, CancellationToken ct)
    {
        var uri = query is null ? "" : "?query=" + Uri.EscapeDataString(query);
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        using var response = await http.PostAsync(uri, content, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
            throw Refused(response, text);
        return text;
    }

    private static ClickHouseException Refused(HttpResponseMessage response, string text) =>
        new($"ClickHouse answered {(int)response.StatusCode}: {text.Trim().Split('\n')[0]}");

    private static string Str(JsonObject row, string name) => row[name]?.GetValue<string>() ?? "";

    // 64-bit integers come back quoted by default (output_format_json_quote_64bit_integers).
    private static long Num(JsonObject row, string name) => row[name] switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => long.Parse(v.GetValue<string>(), CultureInfo.InvariantCulture),
        JsonValue v => long.Parse(v.ToJsonString(), CultureInfo.InvariantCulture),
        _ => 0,
    };

    public ValueTask DisposeAsync()
    {
        http.Dispose();
        return ValueTask.CompletedTask;
    }
}

public sealed class ClickHouseException(string message) : Exception(message);
