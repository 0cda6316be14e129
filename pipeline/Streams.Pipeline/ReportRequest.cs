using System.Globalization;
using Streams.Analytics;
using Streams.Analytics.Reports;
using Streams.Core;

namespace Streams.Pipeline;

/// <summary>What `streams report` and GET /report are asked for, checked in one place: a bad value is one clear error.</summary>
public static class ReportRequest
{
    /// <param name="run">A run id (<c>win-back@20261201T1000Z</c>, <c>win-back@now</c>): its request ids start with its key.</param>
    /// <param name="from">An instant (ISO-8601 with offset) or a date (yyyy-MM-dd, from its UTC midnight); <paramref name="to"/> is exclusive.</param>
    public static ReportFilter Filter(string? campaign, string? run, string? from, string? to)
    {
        if (run is not null && !run.Contains('@', StringComparison.Ordinal)) throw new ArgumentException($"--run: '{run}' is not a run id (campaign@time, as `campaign runs` lists them)");
        if (run is not null && campaign is not null && !run.StartsWith(campaign + "@", StringComparison.Ordinal))
            throw new ArgumentException($"--run: '{run}' is not a run of campaign {campaign}");
        var f = new ReportFilter(campaign ?? run?[..run.IndexOf('@', StringComparison.Ordinal)], run is null ? null : RequestIds.RunKey(run), Instant(from, "--from"), Instant(to, "--to"));
        if (f.From >= f.To) throw new ArgumentException("--from must be before --to");
        return f;
    }

    /// <summary>A run's key as the CLI passes it on (it computes it from the run id).</summary>
    public static string RunKey(string key) =>
        key.Length == RequestIds.RunKeyLength && key.All(char.IsAsciiHexDigitLower) ? key : throw new ArgumentException($"run_key: '{key}' is not a run key");

    public static string Format(string? format) =>
        format is null ? "table" : ReportFormats.Names.Contains(format) ? format : throw new ArgumentException($"--format: '{format}' is not one of {string.Join(", ", ReportFormats.Names)}");

    private static DateTimeOffset? Instant(string? text, string option)
    {
        if (text is null) return null;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)) return new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        if (!Timestamps.TryParseInstant(text, out var instant)) throw new ArgumentException($"{option}: '{text}' is not a date (yyyy-MM-dd) or an instant with an offset");
        // The daily summary is kept per UTC quarter-hour: a bound inside one would count part of it on one engine only.
        if (instant.ToUnixTimeSeconds() % 900 != 0) throw new ArgumentException($"{option}: '{text}' is not on a quarter-hour (:00, :15, :30, :45 in UTC)");
        return instant;
    }
}
