using System.Net.Http.Json;
using Streams.Analytics;
using Streams.Core;

namespace Streams.Cli;

/// <summary>
/// What the CLI reads from analytics: ClickHouse when configured; else the running embedded pipeline
/// over HTTP (it holds the DuckDB file open); else the DuckDB file itself.
/// </summary>
public sealed class AnalyticsReader : IAsyncDisposable
{
    private readonly HttpClient? _http;
    private readonly IAnalyticsStore? _store;

    private AnalyticsReader(HttpClient? http, IAnalyticsStore? store)
    {
        _http = http;
        _store = store;
    }

    public static AnalyticsReader? Open(CliContext context)
    {
        if (context.Options.ClickHouse is null && context.Embedded is { } embedded)
            return new AnalyticsReader(new HttpClient { BaseAddress = new Uri(embedded.Http), Timeout = TimeSpan.FromSeconds(10) }, null);
        return context.DirectAnalytics(readOnly: true) is { } store ? new AnalyticsReader(null, store) : null;
    }

    /// <summary>
    /// The report rendered: here over a store this process opens (campaign zones read from Kafka when one is configured,
    /// else UTC days), else by the running pipeline, which knows its campaigns.
    /// </summary>
    public async Task<string> ReportAsync(CliContext context, Analytics.Reports.ReportFilter filter, string format, CancellationToken ct)
    {
        if (_store is not null)
        {
            var specs = context.Options.Kafka.Bootstrap is null
                ? new Dictionary<string, Core.Campaigns.CampaignSpec?>()
                : (await context.Campaigns().ListAsync()).ToDictionary(e => e.Record.Id, e => e.Spec);
            var report = await Analytics.Reports.Reporting.LoadAsync(_store, filter, id => specs.GetValueOrDefault(id), TimeProvider.System.GetUtcNow(), ct);
            return Analytics.Reports.ReportFormats.Render(report, format);
        }
        var query = new List<string> { "format=" + format };
        if (filter.CampaignId is { } c) query.Add("campaign=" + Uri.EscapeDataString(c));
        if (filter.From is { } from) query.Add("from=" + Uri.EscapeDataString(from.ToString("O")));
        if (filter.To is { } to) query.Add("to=" + Uri.EscapeDataString(to.ToString("O")));
        using var response = await _http!.GetAsync("report?" + string.Join("&", query) + (filter.RunKey is null ? "" : "&run_key=" + filter.RunKey), ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        return response.IsSuccessStatusCode ? text : throw new CliException($"the running pipeline answered {(int)response.StatusCode}: {text}");
    }

    public async Task<Story> StoryAsync(string? campaign, string? user, string? request, CancellationToken ct)
    {
        if (_store is not null) return await _store.StoryAsync(campaign, user, request, ct);
        var query = new List<string>();
        if (campaign is not null) query.Add("campaign=" + Uri.EscapeDataString(campaign));
        if (user is not null) query.Add("user=" + Uri.EscapeDataString(user));
        if (request is not null) query.Add("request=" + Uri.EscapeDataString(request));
        return await _http!.GetFromJsonAsync<Story>("why?" + string.Join("&", query), AnalyticsJson.Options, ct) ?? throw new CliException("the running pipeline answered no story");
    }

    /// <summary>Sent and delivered requests of a campaign's runs, by run key.</summary>
    public async Task<IReadOnlyDictionary<string, RunCounts>> RunCountsAsync(string campaign, CancellationToken ct) =>
        _store is not null
            ? await _store.RunCountsAsync(campaign, ct)
            : await _http!.GetFromJsonAsync<Dictionary<string, RunCounts>>("runs/" + Uri.EscapeDataString(campaign), AnalyticsJson.Options, ct) ?? [];

    public async Task<IReadOnlyList<PropertyKey>> KnownPropertiesAsync(CancellationToken ct) =>
        _store is not null
            ? await _store.KnownPropertiesAsync(ct)
            : await _http!.GetFromJsonAsync<List<PropertyKey>>("properties", CliContext.Json, ct) ?? [];

    /// <summary>A segment's member ids, contacts or count (the segment and the saved ones as their files' JSON, for a running pipeline).</summary>
    public async Task<IReadOnlyList<Contact>> SegmentAsync(Core.Campaigns.SavedSegment segment, string segmentJson, IReadOnlyList<Pipeline.SegmentClient.Saved> saved,
        DateTimeOffset now, CancellationToken ct)
    {
        if (_store is not null)
            return await _store.SegmentContactsAsync(segment.Segment, now, Pipeline.SegmentClient.Resolver(saved), ct);
        return await PostAsync<List<Contact>>("segments",
            new AnalyticsJson.SegmentQuery(segmentJson, [.. saved.Select(s => s.Record.SpecJson)], now, "contacts"), ct) ?? [];
    }

    public async Task<long> SegmentCountAsync(Core.Campaigns.SavedSegment segment, string segmentJson, IReadOnlyList<Pipeline.SegmentClient.Saved> saved,
        DateTimeOffset now, CancellationToken ct)
    {
        if (_store is not null) return await _store.SegmentCountAsync(segment.Segment, now, Pipeline.SegmentClient.Resolver(saved), ct);
        return await PostAsync<long>("segments",
            new AnalyticsJson.SegmentQuery(segmentJson, [.. saved.Select(s => s.Record.SpecJson)], now, "count"), ct);
    }

    /// <summary>A campaign's reach estimate: computed here over a store this process opens, else by the running pipeline.</summary>
    public async Task<Pipeline.Estimates.ReachEstimate> EstimateAsync(CliContext context, Core.Campaigns.CampaignSpec spec, string specJson,
        IReadOnlyList<Pipeline.SegmentClient.Saved> saved, DateTimeOffset now, CancellationToken ct)
    {
        if (_store is not null)
        {
            await using var counters = context.Options.Redis is { } redis ? await Counters.RedisCounterStore.ConnectAsync(redis, context.Options.RedisPrefix) : null;
            return await Pipeline.Estimates.Estimator.RunAsync(_store, spec, Pipeline.SegmentClient.Resolver(saved), counters, context.Options, now, ct);
        }
        return await PostAsync<Pipeline.Estimates.ReachEstimate>("estimate",
            new AnalyticsJson.EstimateQuery(specJson, [.. saved.Select(s => s.Record.SpecJson)], now), ct)
            ?? throw new CliException("the running pipeline answered no estimate");
    }

    /// <summary>Asks the running pipeline; an answer that is not a success is one error line with its body.</summary>
    private async Task<T?> PostAsync<T>(string path, object query, CancellationToken ct)
    {
        using var response = await _http!.PostAsJsonAsync(path, query, AnalyticsJson.Options, ct);
        if (!response.IsSuccessStatusCode) throw new CliException($"the running pipeline answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        return await response.Content.ReadFromJsonAsync<T>(AnalyticsJson.Options, ct);
    }

    /// <summary>The user's merged profile, or null when no update for the user has been stored.</summary>
    public async Task<Profile?> ProfileAsync(string userId, CancellationToken ct)
    {
        IReadOnlyList<ProfileUpdate> updates;
        if (_store is not null) updates = await _store.ProfileUpdatesAsync(userId, ct);
        else
        {
            var rows = await _http!.GetFromJsonAsync<List<AnalyticsJson.ProfileJson>>("profiles/" + Uri.EscapeDataString(userId), CliContext.Json, ct) ?? [];
            updates = rows.Select(r => r.ToUpdate()).ToList();
        }
        return updates.Count == 0 ? null : updates.Aggregate(Profile.Empty(userId), (p, u) => p.Merge(u));
    }

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        if (_store is not null) await _store.DisposeAsync();
    }
}
