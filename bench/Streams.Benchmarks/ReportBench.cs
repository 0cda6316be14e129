using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using DuckDB.NET.Data;
using Streams.Analytics;
using Streams.Analytics.Reports;
using Streams.Analytics.Segments;

namespace Streams.Benchmarks;

/// <summary>
/// The report's queries over a large store: N events (default 10,000,000) over 30 days and 1,000,000 users; N/5
/// requests in 10 campaigns, each with sent and delivered results (a tenth held out as control instead), their
/// exposures, and conversions for a fifth of the treatment and a tenth of the control. Data is made by the engines
/// themselves (INSERT ... SELECT over numbers), then each report query runs once to warm and three times timed
/// (the best is printed), on DuckDB and, given its URL, on ClickHouse.
/// Run: dotnet run -c Release --project bench/Streams.Benchmarks -- report [clickhouse-url|-] [events]
/// </summary>
public static class ReportBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var url = args.ElementAtOrDefault(0) is { } u && u != "-" ? u : null;
        var events = long.Parse(args.ElementAtOrDefault(1) ?? "10000000", CultureInfo.InvariantCulture);
        var requests = events / 5;
        Console.WriteLine($"{events:N0} events, {requests:N0} requests in 10 campaigns");

        var dir = Path.Combine(Path.GetTempPath(), "streams-report-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            await DuckDbAsync(Path.Combine(dir, "analytics.duckdb"), events, requests);
            if (url is not null) await ClickHouseAsync(url, events, requests);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        return 0;
    }

    private static async Task DuckDbAsync(string file, long events, long requests)
    {
        await using (var store = DuckDbStore.Open(file)) await store.MigrateAsync();
        var load = Stopwatch.StartNew();
        using (var connection = new DuckDBConnection($"Data Source={file}"))
        {
            connection.Open();
            void Run(string sql)
            {
                using var cmd = connection.CreateCommand();
                cmd.CommandText = sql;
                cmd.ExecuteNonQuery();
            }
            Run($"INSERT INTO events SELECT 'u' || (n % 1000000), ['App Launched', 'Viewed', 'Added To Cart', 'Charged', 'Signed Up'][n % 5 + 1], TIMESTAMP '2026-11-01' + to_seconds(n % 2592000), '{{}}' FROM range({events}) t(n)");
            const string Request = "'c' || ((n // 10) % 10) AS campaign_id, lpad(CAST(n AS VARCHAR), 32, '0') AS request_id, 'u' || (n % 1000000) AS user_id, TIMESTAMP '2026-11-01' + to_seconds(n % 2592000) AS ts";
            Run($"""
                INSERT INTO results SELECT request_id, 'm', campaign_id, user_id, 'sent', '', 'sandbox', 1 + CAST(n % 3 = 0 AS INTEGER), CASE WHEN n % 7 = 0 THEN 'UCS-2' ELSE 'GSM-7' END, ts
                FROM (SELECT n, {Request} FROM range({requests}) t(n)) WHERE n % 10 <> 0
                """);
            Run($"INSERT INTO results SELECT request_id, 'm', campaign_id, user_id, 'delivered', '', 'sandbox', 1, 'GSM-7', ts + INTERVAL 5 SECOND FROM (SELECT n, {Request} FROM range({requests}) t(n)) WHERE n % 10 <> 0 AND n % 50 <> 1");
            Run($"INSERT INTO results SELECT request_id, '', campaign_id, user_id, 'suppressed', 'control_group', '', 0, '', ts FROM (SELECT n, {Request} FROM range({requests}) t(n)) WHERE n % 10 = 0");
            Run("""
                INSERT INTO exposures SELECT campaign_id, request_id, user_id,
                  CASE WHEN status = 'sent' THEN 'treatment' WHEN reason = 'control_group' THEN 'control' ELSE 'global_control' END, ts
                FROM results WHERE status = 'sent' OR (status = 'suppressed' AND reason IN ('control_group', 'global_control'))
                """);
            Run($"""
                INSERT INTO conversions SELECT campaign_id, user_id, request_id, '', CASE WHEN n % 10 = 0 THEN 'control' ELSE 'treatment' END, ts, 'Charged',
                  ts + INTERVAL 20 MINUTE, 100 + n % 900, 1
                FROM (SELECT n, {Request} FROM range({requests}) t(n)) WHERE n % 5 = 1 OR (n % 10 = 0 AND (n // 100) % 10 = 0)
                """);
        }
        Console.WriteLine($"duckdb: loaded in {load.Elapsed.TotalSeconds:N1} s ({new FileInfo(file).Length / 1e6:N0} MB)");
        await using var read = DuckDbStore.Open(file, readOnly: true);
        await TimeAsync("duckdb", read, new ReportSql(SqlDialect.DuckDb), query =>
        {
            // The store's own connection is busy only between its calls; these run between them too.
            using var connection = new DuckDBConnection($"Data Source={file};ACCESS_MODE=READ_ONLY");
            connection.Open();
            using var cmd = connection.CreateCommand();
            cmd.CommandText = query;
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
            }
            return Task.CompletedTask;
        });
    }

    private static async Task ClickHouseAsync(string url, long events, long requests)
    {
        var db = "bench_" + Guid.NewGuid().ToString("N")[..8];
        await using var store = ClickHouseStore.Create(url, db, TimeSpan.FromMinutes(10));
        await store.MigrateAsync();
        using var http = new HttpClient { BaseAddress = new Uri(url.TrimEnd('/') + "/"), Timeout = TimeSpan.FromMinutes(10) };
        async Task Run(string sql)
        {
            using var response = await http.PostAsync("", new StringContent(sql));
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException(await response.Content.ReadAsStringAsync());
        }
        var load = Stopwatch.StartNew();
        await Run($"INSERT INTO {db}.events SELECT concat('u', toString(number % 1000000)), arrayElement(['App Launched', 'Viewed', 'Added To Cart', 'Charged', 'Signed Up'], number % 5 + 1), toDateTime('2026-11-01 00:00:00', 'UTC') + number % 2592000, '{{}}' FROM numbers({events})");
        var request = "concat('c', toString(intDiv(number, 10) % 10)) AS campaign_id, leftPad(toString(number), 32, '0') AS request_id, concat('u', toString(number % 1000000)) AS user_id, toDateTime('2026-11-01 00:00:00', 'UTC') + number % 2592000 AS ts";
        // leftPad arrived after 18.16: pad by hand.
        request = request.Replace("leftPad(toString(number), 32, '0')", "concat(substring('00000000000000000000000000000000', 1, 32 - length(toString(number))), toString(number))", StringComparison.Ordinal);
        await Run($"INSERT INTO {db}.results SELECT request_id, 'm', campaign_id, user_id, 'sent', '', 'sandbox', toUInt16(1 + (number % 3 = 0)), if(number % 7 = 0, 'UCS-2', 'GSM-7'), ts FROM (SELECT number, {request} FROM numbers({requests})) WHERE number % 10 != 0");
        await Run($"INSERT INTO {db}.results SELECT request_id, 'm', campaign_id, user_id, 'delivered', '', 'sandbox', toUInt16(1), 'GSM-7', ts + 5 FROM (SELECT number, {request} FROM numbers({requests})) WHERE number % 10 != 0 AND number % 50 != 1");
        await Run($"INSERT INTO {db}.results SELECT request_id, '', campaign_id, user_id, 'suppressed', 'control_group', '', toUInt16(0), '', ts FROM (SELECT number, {request} FROM numbers({requests})) WHERE number % 10 = 0");
        await Run($"INSERT INTO {db}.conversions SELECT campaign_id, user_id, request_id, '', if(number % 10 = 0, 'control', 'treatment'), ts, 'Charged', ts + 1200, toFloat64(100 + number % 900), toUInt8(1) FROM (SELECT number, {request} FROM numbers({requests})) WHERE number % 5 = 1 OR (number % 10 = 0 AND intDiv(number, 100) % 10 = 0)");
        await Run($"OPTIMIZE TABLE {db}.campaign_daily FINAL");
        Console.WriteLine($"clickhouse: loaded in {load.Elapsed.TotalSeconds:N1} s (database {db}, dropped after)");
        try
        {
            await TimeAsync("clickhouse", store, new ReportSql(SqlDialect.ClickHouse, db + "."), query => Run(query + " FORMAT JSON"));
        }
        finally
        {
            await Run($"DROP DATABASE {db}");
        }
    }

    /// <summary>The whole report (every query, as `streams report` runs them) warm once, then the best of three; then each query alone the same way.</summary>
    private static async Task TimeAsync(string engine, IAnalyticsStore store, ReportSql sql, Func<string, Task> execute)
    {
        var rows = await store.ReportRowsAsync(new ReportFilter());
        var best = double.MaxValue;
        for (var i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            rows = await store.ReportRowsAsync(new ReportFilter());
            best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
        }
        var c0 = Report.Build(rows, new ReportFilter(), DateTimeOffset.UtcNow, _ => null).Campaigns[0];
        Console.WriteLine($"{engine}: whole report (7 queries, 10 campaigns), best of 3: {best:N0} ms; c0: qualified {c0.Funnel.Qualified:N0}, sent {c0.Funnel.Sent:N0}, converted {c0.Converted:N0}; {ReportFormats.LiftLine(c0.Lift)}");
        foreach (var (name, query) in sql.All(new ReportFilter()))
        {
            await execute(query);
            var one = double.MaxValue;
            for (var i = 0; i < 3; i++)
            {
                var clock = Stopwatch.StartNew();
                await execute(query);
                one = Math.Min(one, clock.Elapsed.TotalMilliseconds);
            }
            Console.WriteLine($"{engine}:   {name,-18} {one,8:N0} ms");
        }
    }
}
