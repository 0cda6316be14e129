using System.Diagnostics;
using System.Globalization;
using System.Text;
using DuckDB.NET.Data;
using Streams.Analytics.Segments;
using Streams.Core.Campaigns;
using Streams.Core.Segments;

namespace Streams.Benchmarks;

/// <summary>
/// A 3-condition segment count, compiled, beside a hand-written query of the same meaning over the raw tables (what
/// an analyst would write: one GROUP BY over events, joined to the latest city), on the same data in the same run.
/// Load the data first with `streams generate`.
///   segments duckdb PATH [runs]
///   segments clickhouse URL DATABASE [runs]
/// </summary>
public static class SegmentBench
{
    private const string Yaml = """
        id: bench
        name: Bench
        segment:
          all:
            - profile: {prop: city, op: eq, value: Mumbai}
            - did: {event: App Launched, count: {gte: 5}, within: 30d}
            - not: {did: {event: Charged, within: 30d}}
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var segment = CampaignSpecParser.ParseSegment(Yaml).Segment!.Segment;
        var now = DateTimeOffset.UtcNow;
        var (from, _) = Window.Days(TimeSpan.FromDays(30), now);
        var day = DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + from).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        Func<string, Task<long>> query;
        string compiled, hand;
        IDisposable? owned = null;
        switch (args)
        {
            case ["duckdb", var path, ..]:
                var connection = new DuckDBConnection($"Data Source={path};ACCESS_MODE=READ_ONLY");
                connection.Open();
                owned = connection;
                query = sql =>
                {
                    using var cmd = connection.CreateCommand();
                    cmd.CommandText = sql;
                    return Task.FromResult(Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture));
                };
                compiled = SegmentSql.Count(segment, SqlDialect.DuckDb, now);
                hand = $"""
                    SELECT count(*) FROM (
                      SELECT user_id, count(*) FILTER (WHERE name = 'App Launched' AND CAST(ts AS DATE) >= DATE '{day}') AS launches,
                        count(*) FILTER (WHERE name = 'Charged' AND CAST(ts AS DATE) >= DATE '{day}') AS charges
                      FROM events GROUP BY user_id) e
                    JOIN (SELECT user_id, arg_max(json_extract_string(props, '$.city'), ts) AS city FROM profiles GROUP BY user_id) p USING (user_id)
                    WHERE launches >= 5 AND charges = 0 AND city = 'Mumbai'
                    """;
                break;
            case ["clickhouse", var url, var database, ..]:
                var http = new HttpClient { BaseAddress = new Uri(url.TrimEnd('/') + "/"), Timeout = TimeSpan.FromMinutes(5) };
                owned = http;
                query = async sql =>
                {
                    using var response = await http.PostAsync("", new StringContent(sql, Encoding.UTF8));
                    var text = await response.Content.ReadAsStringAsync();
                    if (!response.IsSuccessStatusCode) throw new InvalidOperationException(text);
                    return long.Parse(text.Trim(), CultureInfo.InvariantCulture);
                };
                compiled = SegmentSql.Count(segment, SqlDialect.ClickHouse, now, database + ".");
                hand = $"""
                    SELECT count() FROM (
                      SELECT user_id, countIf(name = 'App Launched' AND toDate(ts) >= toDate('{day}')) AS launches,
                        countIf(name = 'Charged' AND toDate(ts) >= toDate('{day}')) AS charges
                      FROM {database}.events GROUP BY user_id)
                    ANY INNER JOIN (SELECT user_id, argMax(visitParamExtractString(props, 'city'), ts) AS city FROM {database}.profiles GROUP BY user_id) USING user_id
                    WHERE launches >= 5 AND charges = 0 AND city = 'Mumbai'
                    """;
                break;
            default:
                Console.Error.WriteLine("usage: segments duckdb PATH [runs] | segments clickhouse URL DATABASE [runs]");
                return 2;
        }
        using var _ = owned;
        var runs = args.Length > 3 && int.TryParse(args[^1], out var r) ? r : 5;
        var (compiledMs, compiledCount) = await TimeAsync(query, compiled, runs);
        var (handMs, handCount) = await TimeAsync(query, hand, runs);
        Console.WriteLine($"{args[0]}: 3-condition segment count, median of {runs} after one warm-up");
        Console.WriteLine($"  compiled      {compiledMs,8:0} ms  ({compiledCount} users)");
        Console.WriteLine($"  hand-written  {handMs,8:0} ms  ({handCount} users)");
        Console.WriteLine($"  ratio compiled / hand-written: {compiledMs / handMs:0.00}x");
        if (compiledCount != handCount) Console.WriteLine("  THE COUNTS DIFFER");
        return compiledCount == handCount ? 0 : 1;
    }

    private static async Task<(double Ms, long Count)> TimeAsync(Func<string, Task<long>> query, string sql, int runs)
    {
        var count = await query(sql);
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            count = await query(sql);
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return (times[times.Count / 2], count);
    }
}
