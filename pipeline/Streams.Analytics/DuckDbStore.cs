using DuckDB.NET.Data;
using Streams.Core;

namespace Streams.Analytics;

/// <summary>The embedded analytics store: a DuckDB file with the same tables as ClickHouse.</summary>
public sealed class DuckDbStore : IAnalyticsStore
{
    private readonly DuckDBConnection _connection;
    private readonly SemaphoreSlim _lock = new(1, 1);

    private DuckDbStore(DuckDBConnection connection) => _connection = connection;

    public static DuckDbStore Open(string path, bool readOnly = false)
    {
        if (!readOnly) Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var connection = new DuckDBConnection($"Data Source={path}{(readOnly ? ";ACCESS_MODE=READ_ONLY" : "")}");
        connection.Open();
        return new DuckDbStore(connection);
    }

    public Task MigrateAsync(CancellationToken ct = default) => Locked(() =>
    {
        Execute("CREATE TABLE IF NOT EXISTS events (user_id VARCHAR, name VARCHAR, ts TIMESTAMP, props VARCHAR)");
        Execute("CREATE TABLE IF NOT EXISTS profiles (user_id VARCHAR, ts TIMESTAMP, phone VARCHAR, timezone VARCHAR, sms_opt_in TINYINT, props VARCHAR)");
        Execute("""
            CREATE TABLE IF NOT EXISTS results (request_id VARCHAR, message_id VARCHAR, campaign_id VARCHAR, user_id VARCHAR,
              status VARCHAR, reason VARCHAR, provider VARCHAR, segments USMALLINT, encoding VARCHAR, ts TIMESTAMP)
            """);
        Execute("CREATE TABLE IF NOT EXISTS properties (kind VARCHAR, event VARCHAR, name VARCHAR, PRIMARY KEY (kind, event, name))");
        Execute("""
            CREATE TABLE IF NOT EXISTS requests (request_id VARCHAR, campaign_id VARCHAR, user_id VARCHAR, trigger VARCHAR, trigger_ts TIMESTAMP,
              ts TIMESTAMP, due_at TIMESTAMP, cause VARCHAR)
            """);
        Execute("""
            CREATE TABLE IF NOT EXISTS conversions (campaign_id VARCHAR, user_id VARCHAR, request_id VARCHAR, run_key VARCHAR, cohort VARCHAR,
              exposed_at TIMESTAMP, event VARCHAR, ts TIMESTAMP, value DOUBLE, last_touch TINYINT)
            """);
        // ClickHouse keeps exposures with a materialized view over results; here each results insert writes them too.
        var exposures = ScalarLong("SELECT count(*) FROM information_schema.tables WHERE table_name = 'exposures'") > 0;
        Execute("CREATE TABLE IF NOT EXISTS exposures (campaign_id VARCHAR, request_id VARCHAR, user_id VARCHAR, cohort VARCHAR, ts TIMESTAMP)");
        if (!exposures) Execute($"INSERT INTO exposures {ExposuresOf("results")}");
        // Events per user, name and UTC day, kept with every insert: what a segment's did without where reads.
        var exists = ScalarLong("SELECT count(*) FROM information_schema.tables WHERE table_name = 'events_daily'") > 0;
        Execute("CREATE TABLE IF NOT EXISTS events_daily (user_id VARCHAR, name VARCHAR, day DATE, n BIGINT, PRIMARY KEY (user_id, name, day))");
        if (!exists) Execute("INSERT INTO events_daily SELECT user_id, name, CAST(ts AS DATE), count(*) FROM events GROUP BY ALL");
        Execute("CREATE TEMP TABLE IF NOT EXISTS events_batch (user_id VARCHAR, name VARCHAR, ts TIMESTAMP, props VARCHAR)");
    });

    public async Task<IReadOnlyList<string>> SegmentUsersAsync(Core.Campaigns.SegmentNode segment, DateTimeOffset now,
        Func<string, Core.Campaigns.SegmentNode?>? resolve = null, CancellationToken ct = default)
    {
        return await RowsAsync(Segments.SegmentSql.Users(segment, Segments.SqlDialect.DuckDb, now, "", resolve), r => r.GetString(0));
    }

    public async Task<IReadOnlyList<Contact>> SegmentContactsAsync(Core.Campaigns.SegmentNode segment, DateTimeOffset now,
        Func<string, Core.Campaigns.SegmentNode?>? resolve = null, CancellationToken ct = default)
    {
        return await RowsAsync(Segments.SegmentSql.Contacts(segment, Segments.SqlDialect.DuckDb, now, "", resolve),
            r => new Contact(r.GetString(0), r.GetString(1), r.GetString(2), Contact.OptInOf(r.GetString(3))));
    }

    public IAsyncEnumerable<Profile> SegmentProfilesAsync(Core.Campaigns.SegmentNode segment, DateTimeOffset now,
        Func<string, Core.Campaigns.SegmentNode?>? resolve = null, CancellationToken ct = default) =>
        ProfileFold.Fold(ProfileRowsAsync(Segments.SegmentSql.Profiles(segment, Segments.SqlDialect.DuckDb, now, "", resolve), ct));

    /// <summary>
    /// Rows stream through a bounded channel, a few hundred at a time, from a reader that holds the connection until it
    /// ends (DuckDB has one connection here): the consumer never holds more than a few thousand rows, and the two
    /// threads hand over once per chunk rather than per row. Few rows are ever in flight, so they die young (a
    /// deeper channel promoted them out of gen0 and made the run pay for gen2 collections).
    /// </summary>
    private async IAsyncEnumerable<ProfileUpdate> ProfileRowsAsync(string sql, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        const int Chunk = 256;
        var channel = System.Threading.Channels.Channel.CreateBounded<List<ProfileUpdate>>(2);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // Its own thread: it blocks while the consumer catches up, and must not hold a pool thread the consumer needs.
        var reading = Task.Factory.StartNew(() =>
        {
            try
            {
                _lock.Wait(stop.Token);
                try
                {
                    using var cmd = Command(sql);
                    using var reader = cmd.ExecuteReader();
                    var chunk = new List<ProfileUpdate>(Chunk);
                    void Hand()
                    {
                        while (!channel.Writer.TryWrite(chunk))
                            channel.Writer.WaitToWriteAsync(stop.Token).AsTask().GetAwaiter().GetResult();
                        chunk = new List<ProfileUpdate>(Chunk);
                    }
                    while (reader.Read())
                    {
                        string? Text(int i) => reader.GetString(i) is { Length: > 0 } s ? s : null;
                        chunk.Add(new ProfileUpdate(reader.GetString(0), DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(1)), Text(2), Text(3),
                            reader.GetInt64(4) switch { 1 => true, 0 => false, _ => null }, Funnel.PropsFromJson(reader.GetString(5))));
                        if (chunk.Count == Chunk) Hand();
                    }
                    if (chunk.Count > 0) Hand();
                }
                finally
                {
                    _lock.Release();
                }
                channel.Writer.TryComplete();
            }
            catch (Exception e)
            {
                channel.Writer.TryComplete(e);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            await foreach (var chunk in channel.Reader.ReadAllAsync(ct))
            {
                foreach (var row in chunk) yield return row;
            }
        }
        finally
        {
            await stop.CancelAsync();
            try { await reading; }
            catch (OperationCanceledException) { }
        }
    }

    public async Task<IReadOnlyList<Activity>> ActivityAsync(Core.Campaigns.SegmentNode segment, IReadOnlyList<string> events, DateTimeOffset from, DateTimeOffset to,
        Func<string, Core.Campaigns.SegmentNode?>? resolve = null, CancellationToken ct = default)
    {
        return await RowsAsync(Segments.SegmentSql.Activity(segment, events, from, to, Segments.SqlDialect.DuckDb, "", resolve),
            r => new Activity(r.GetString(0), (int)r.GetInt64(1), r.GetInt64(2)));
    }

    public async Task<IReadOnlyDictionary<string, RunCounts>> RunCountsAsync(string campaignId, CancellationToken ct = default)
    {
        var rows = await RowsAsync(Segments.SegmentSql.RunCounts(campaignId, Segments.SqlDialect.DuckDb),
            r => (Run: r.GetString(0), Counts: new RunCounts(r.GetInt64(1), r.GetInt64(2))));
        return rows.ToDictionary(x => x.Run, x => x.Counts, StringComparer.Ordinal);
    }

    public async Task<long> EventCountAsync(string name, IReadOnlyList<Core.Campaigns.Condition> where, DateTimeOffset from, DateTimeOffset to,
        Core.Campaigns.SegmentNode? members = null, Func<string, Core.Campaigns.SegmentNode?>? resolve = null, CancellationToken ct = default)
    {
        var sql = Segments.SegmentSql.EventCount(name, where, from, to, Segments.SqlDialect.DuckDb, "", members, resolve);
        long n = 0;
        await Locked(() => n = ScalarLong(sql));
        return n;
    }

    public async Task<long> SegmentCountAsync(Core.Campaigns.SegmentNode segment, DateTimeOffset now,
        Func<string, Core.Campaigns.SegmentNode?>? resolve = null, CancellationToken ct = default)
    {
        var sql = Segments.SegmentSql.Count(segment, Segments.SqlDialect.DuckDb, now, "", resolve);
        long n = 0;
        await Locked(() => n = ScalarLong(sql));
        return n;
    }

    private long ScalarLong(string sql)
    {
        using var cmd = Command(sql);
        return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The batch lands in events and its counts in the daily rollup, in one transaction.</summary>
    public Task InsertEventsAsync(IReadOnlyList<UserEvent> events, CancellationToken ct = default) => Locked(() =>
    {
        // A batch whose transaction failed leaves its rows here; the retry must not add them twice.
        Execute("DELETE FROM events_batch");
        using (var appender = _connection.CreateAppender("events_batch"))
        {
            foreach (var e in events)
                appender.CreateRow().AppendValue(e.UserId).AppendValue(e.Name).AppendValue(e.Ts.UtcDateTime).AppendValue(Funnel.PropsJson(e.Props)).EndRow();
        }
        using var transaction = _connection.BeginTransaction();
        Execute("INSERT INTO events SELECT * FROM events_batch");
        Execute("""
            INSERT INTO events_daily SELECT user_id, name, CAST(ts AS DATE) AS day, count(*) AS n FROM events_batch GROUP BY ALL
            ON CONFLICT (user_id, name, day) DO UPDATE SET n = events_daily.n + excluded.n
            """);
        Execute("DELETE FROM events_batch");
        transaction.Commit();
    });

    public Task InsertProfilesAsync(IReadOnlyList<ProfileUpdate> profiles, CancellationToken ct = default) => Locked(() =>
    {
        using var appender = _connection.CreateAppender("profiles");
        foreach (var p in profiles)
            appender.CreateRow().AppendValue(p.UserId).AppendValue(p.Ts.UtcDateTime).AppendValue(p.Phone ?? "").AppendValue(p.Timezone ?? "")
                .AppendValue((sbyte)(p.SmsOptIn switch { true => 1, false => 0, null => -1 })).AppendValue(Funnel.PropsJson(p.Props ?? Props.Empty)).EndRow();
    });

    public Task InsertResultsAsync(IReadOnlyList<SmsResult> results, CancellationToken ct = default) => Locked(() =>
    {
        using (var appender = _connection.CreateAppender("results"))
        {
            foreach (var r in results)
                appender.CreateRow().AppendValue(r.RequestId).AppendValue(r.MessageId ?? "").AppendValue(r.CampaignId).AppendValue(r.UserId)
                    .AppendValue(r.Status).AppendValue(r.Reason ?? "").AppendValue(r.Provider ?? "").AppendValue((ushort)r.Segments)
                    .AppendValue(r.Encoding ?? "").AppendValue(r.Ts.UtcDateTime).EndRow();
        }
        using var exposures = _connection.CreateAppender("exposures");
        foreach (var r in results)
        {
            if (ExposureGroup.Of(r) is { } cohort)
                exposures.CreateRow().AppendValue(r.CampaignId).AppendValue(r.RequestId).AppendValue(r.UserId).AppendValue(cohort).AppendValue(r.Ts.UtcDateTime).EndRow();
        }
    });

    /// <summary>The exposures among results, as ClickHouse's exposures view selects them.</summary>
    private static string ExposuresOf(string table) => $"""
        SELECT campaign_id, request_id, user_id,
          CASE WHEN status <> 'suppressed' THEN 'treatment' WHEN reason = 'control_group' THEN 'control' ELSE 'global_control' END AS cohort, ts
        FROM {table} WHERE status IN ('sent', 'failed', 'ambiguous') OR (status = 'suppressed' AND reason IN ('control_group', 'global_control'))
        """;

    public Task InsertRequestsAsync(IReadOnlyList<RequestRow> requests, CancellationToken ct = default) => Locked(() =>
    {
        using var appender = _connection.CreateAppender("requests");
        foreach (var r in requests)
            appender.CreateRow().AppendValue(r.RequestId).AppendValue(r.CampaignId).AppendValue(r.UserId).AppendValue(r.Trigger)
                .AppendValue((r.TriggerTs ?? DateTimeOffset.UnixEpoch).UtcDateTime).AppendValue(r.Ts.UtcDateTime)
                .AppendValue((r.DueAt ?? DateTimeOffset.UnixEpoch).UtcDateTime).AppendValue(r.Cause).EndRow();
    });

    public Task InsertConversionsAsync(IReadOnlyList<ConversionRecord> conversions, CancellationToken ct = default) => Locked(() =>
    {
        using var appender = _connection.CreateAppender("conversions");
        foreach (var c in conversions)
            appender.CreateRow().AppendValue(c.CampaignId).AppendValue(c.UserId).AppendValue(c.RequestId).AppendValue(c.RunKey ?? "").AppendValue(c.Cohort)
                .AppendValue(c.ExposedAt.UtcDateTime).AppendValue(c.Event).AppendValue(c.Ts.UtcDateTime).AppendValue(c.Value ?? 0)
                .AppendValue((sbyte)(c.LastTouch ? 1 : 0)).EndRow();
    });

    public async Task<Reports.ReportRows> ReportRowsAsync(Reports.ReportFilter filter, CancellationToken ct = default)
    {
        var sql = ReportSql;
        return new Reports.ReportRows(
            await QualifiedAsync(filter),
            await StatusesAsync(filter),
            await RowsAsync(sql.Costs(filter), r => new Reports.CostRow(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3))),
            await RowsAsync(sql.Daily(filter), r => new Reports.QuarterRow(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3))),
            await RowsAsync(sql.Exposures(filter), r => new Reports.CohortRow(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3), 0)),
            await RowsAsync(sql.Conversions(filter), r => new Reports.CohortRow(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3), r.IsDBNull(4) ? 0 : r.GetDouble(4))),
            await RowsAsync(sql.DailyConversions(filter), r => new Reports.QuarterRow(r.GetString(0), "converted", r.GetInt64(1), r.GetInt64(2))));
    }

    public async Task<Story> StoryAsync(string? campaignId, string? userId, string? requestId, CancellationToken ct = default)
    {
        var where = Reports.StorySql.Where(campaignId, userId, requestId, v => "'" + v.Replace("'", "''", StringComparison.Ordinal) + "'");
        static DateTimeOffset Utc(DateTime t) => new(DateTime.SpecifyKind(t, DateTimeKind.Utc));
        static DateTimeOffset? Optional(DateTime t) => Utc(t) == DateTimeOffset.UnixEpoch ? null : Utc(t);
        static string? Text(string s) => s.Length == 0 ? null : s;
        var requests = await RowsAsync($"SELECT DISTINCT request_id, campaign_id, user_id, trigger, trigger_ts, ts, due_at, cause FROM requests WHERE {where} ORDER BY ts, due_at",
            r => new RequestRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), Optional(r.GetDateTime(4)), Utc(r.GetDateTime(5)), Optional(r.GetDateTime(6)), r.GetString(7)));
        var results = await RowsAsync($"SELECT DISTINCT request_id, message_id, campaign_id, user_id, status, reason, provider, segments, encoding, ts FROM results WHERE {where} ORDER BY ts, status",
            r => new SmsResult(r.GetString(0), Text(r.GetString(1)), r.GetString(2), r.GetString(3), r.GetString(4), Text(r.GetString(5)), Text(r.GetString(6)),
                r.GetFieldValue<ushort>(7), Text(r.GetString(8)), Utc(r.GetDateTime(9))));
        var conversions = await RowsAsync($"SELECT DISTINCT campaign_id, user_id, request_id, run_key, cohort, exposed_at, event, ts, value, last_touch FROM conversions WHERE {where} ORDER BY ts",
            r => new ConversionRecord(r.GetString(0), r.GetString(1), r.GetString(2), Text(r.GetString(3)), r.GetString(4), Utc(r.GetDateTime(5)), r.GetString(6),
                Utc(r.GetDateTime(7)), r.GetDouble(8), r.GetFieldValue<sbyte>(9) == 1));
        return new Story(requests, results, conversions);
    }

    /// <summary>The report's own funnel queries (qualified and statuses), without the rest of the report.</summary>
    public async Task<IReadOnlyList<FunnelRow>> FunnelAsync(string? campaignId = null, CancellationToken ct = default)
    {
        var filter = new Reports.ReportFilter(campaignId);
        return Funnel.Build(await QualifiedAsync(filter), await StatusesAsync(filter));
    }

    private static readonly Reports.ReportSql ReportSql = new(Segments.SqlDialect.DuckDb);

    private Task<List<(string, long)>> QualifiedAsync(Reports.ReportFilter filter) =>
        RowsAsync(ReportSql.Qualified(filter), r => (r.GetString(0), r.GetInt64(1)));

    private Task<List<Funnel.StatusCount>> StatusesAsync(Reports.ReportFilter filter) =>
        RowsAsync(ReportSql.Statuses(filter), r => new Funnel.StatusCount(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3)));

    public Task InsertPropertiesAsync(IReadOnlyList<PropertyKey> keys, CancellationToken ct = default) => Locked(() =>
    {
        foreach (var k in keys)
        {
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = "INSERT INTO properties VALUES ($kind, $event, $name) ON CONFLICT DO NOTHING";
            cmd.Parameters.Add(new DuckDBParameter("kind", k.Kind));
            cmd.Parameters.Add(new DuckDBParameter("event", k.Event));
            cmd.Parameters.Add(new DuckDBParameter("name", k.Name));
            cmd.ExecuteNonQuery();
        }
    });

    public async Task<IReadOnlyList<PropertyKey>> KnownPropertiesAsync(CancellationToken ct = default)
    {
        return await RowsAsync("SELECT kind, event, name FROM properties", r => new PropertyKey(r.GetString(0), r.GetString(1), r.GetString(2)));
    }

    public async Task<IReadOnlyList<ProfileUpdate>> ProfileUpdatesAsync(string userId, CancellationToken ct = default)
    {
        var updates = new List<ProfileUpdate>();
        await Locked(() =>
        {
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = "SELECT user_id, ts, phone, timezone, sms_opt_in, props FROM profiles WHERE user_id = $user ORDER BY ts";
            cmd.Parameters.Add(new DuckDBParameter("user", userId));
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                string? Text(int i) => reader.GetString(i) is { Length: > 0 } s ? s : null;
                updates.Add(new ProfileUpdate(reader.GetString(0), new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc)),
                    Text(2), Text(3), reader.GetFieldValue<sbyte>(4) switch { 1 => true, 0 => false, _ => null }, Funnel.PropsFromJson(reader.GetString(5))));
            }
        });
        return updates;
    }

    private DuckDBCommand Command(string sql)
    {
        var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        return cmd;
    }

    private void Execute(string sql)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>Every row of a query, read under the connection's lock.</summary>
    private async Task<List<T>> RowsAsync<T>(string sql, Func<DuckDBDataReader, T> row)
    {
        var rows = new List<T>();
        await Locked(() =>
        {
            using var cmd = Command(sql);
            using var reader = cmd.ExecuteReader();
            while (reader.Read()) rows.Add(row(reader));
        });
        return rows;
    }

    private async Task Locked(Action action)
    {
        await _lock.WaitAsync();
        try { action(); }
        finally { _lock.Release(); }
    }

    public ValueTask DisposeAsync()
    {
        _connection.Dispose();
        _lock.Dispose();
        return ValueTask.CompletedTask;
    }
}
