using Confluent.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Streams.Analytics;
using Streams.Counters;
using Streams.Dispatcher;
using Streams.Dispatcher.Webhooks;
using Streams.Kafka;

namespace Streams.Pipeline.Hosting;

/// <summary>
/// The generic host of `streams run`: the pipeline's roles as hosted services, and the HTTP side (health, metrics,
/// webhooks, and the funnel for `streams report` while the pipeline holds the embedded store).
/// </summary>
public static class StreamsWebHost
{
    /// <param name="runRoles">Run the pipeline's roles as this host's hosted services: started with it, and stopped
    /// with it (all at once, within the configured shutdown_grace).</param>
    public static async Task<WebApplication> StartAsync(PipelineHost pipeline, string url, CancellationToken ct, bool runRoles = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 1024 * 1024);
        builder.Services.AddStreamsPipeline(pipeline);
        if (runRoles) builder.Services.AddPipelineRoles(pipeline);
        // Every 4xx/5xx without a body of its own (unknown path, wrong method, oversize request) becomes a JSON problem.
        builder.Services.AddProblemDetails();
        builder.AddStreamsTelemetry();
        var app = builder.Build();
        app.UseStatusCodePages();
        app.UseCountersUnavailableAs503();
        app.MapMetrics();
        app.MapAnalytics();
        app.MapSegments();
        app.MapEstimate();
        app.MapWebhooks();
        await app.StartAsync(ct);
        return app;
    }

    public static string Address(WebApplication app) => app.Urls.First();

    /// <summary>The pipeline's services, typed, for the endpoints: its options, clock, counters, campaigns, Kafka producer and webhook handler.</summary>
    public static IServiceCollection AddStreamsPipeline(this IServiceCollection services, PipelineHost pipeline) => services
        .AddSingleton(pipeline.Options)
        .AddSingleton(pipeline.Time)
        .AddSingleton(pipeline.Topics)
        .AddSingleton(pipeline.Counters)
        .AddSingleton(pipeline.Campaigns)
        .AddSingleton(pipeline.Producer)
        .AddSingleton(pipeline.Webhooks)
        .AddSingleton(new AnalyticsAccess(pipeline.Analytics, pipeline.Bootstrap));

    /// <summary>The roles as hosted services, stopped all at once within shutdown_grace.</summary>
    public static IServiceCollection AddPipelineRoles(this IServiceCollection services, PipelineHost pipeline)
    {
        foreach (var role in pipeline.Roles) services.AddSingleton<IHostedService>(role);
        return services.Configure<HostOptions>(o =>
        {
            // The roles' stop waits for what is in flight until this deadline, then gives up on it.
            o.ShutdownTimeout = pipeline.Options.ShutdownGraceSpan;
            o.ServicesStopConcurrently = true;
        });
    }

    /// <summary>Webhooks need Redis (the message notes): while it is away they answer 503, which providers retry.</summary>
    private static void UseCountersUnavailableAs503(this WebApplication app) => app.Use(async (http, next) =>
    {
        try
        {
            await next(http);
        }
        catch (Exception e) when (e is StackExchange.Redis.RedisException or CountersNotReadyException && !http.Response.HasStarted)
        {
            http.Response.Clear();
            await Results.Problem(statusCode: 503, title: "counters unavailable", detail: "Redis does not answer; retry later").ExecuteAsync(http);
        }
    });

    private static void MapAnalytics(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", (AnalyticsAccess access) => Results.Json(new { status = "ok", kafka = access.Bootstrap }));
        // The report as a page (the default), or as table, json or csv text: what `streams report` prints.
        app.MapGet("/report", async (string? campaign, string? run, string? run_key, string? from, string? to, string? format, AnalyticsAccess access,
            CampaignCache campaigns, TimeProvider time, CancellationToken token) =>
        {
            if (access.Store is not { } analytics) return NoAnalytics();
            Analytics.Reports.ReportFilter filter;
            try
            {
                filter = ReportRequest.Filter(campaign, run, from, to);
                if (run_key is not null) filter = filter with { RunKey = ReportRequest.RunKey(run_key) };
                format = ReportRequest.Format(format ?? "html");
            }
            catch (ArgumentException e)
            {
                return Results.Problem(statusCode: 400, title: "bad report request", detail: e.Message);
            }
            var report = await Analytics.Reports.Reporting.LoadAsync(analytics, filter, id => campaigns.Get(id)?.Spec, time.GetUtcNow(), token);
            var text = Analytics.Reports.ReportFormats.Render(report, format);
            return Results.Text(text, format switch { "html" => "text/html; charset=utf-8", "json" => "application/json", "csv" => "text/csv; charset=utf-8", _ => "text/plain; charset=utf-8" });
        });
        app.MapGet("/why", async (string? campaign, string? user, string? request, AnalyticsAccess access, CancellationToken token) =>
        {
            if (access.Store is not { } analytics) return NoAnalytics();
            if (user is null && request is null) return Results.Problem(statusCode: 400, title: "bad why request", detail: "give user (with or without campaign) or request");
            return Results.Json(await analytics.StoryAsync(campaign, user, request, token), AnalyticsJson.Options);
        });
        app.MapGet("/runs/{campaign}", async (string campaign, AnalyticsAccess access, CancellationToken token) => access.Store is { } analytics
            ? Results.Json(await analytics.RunCountsAsync(campaign, token), AnalyticsJson.Options)
            : NoAnalytics());
        app.MapGet("/properties", async (AnalyticsAccess access, CancellationToken token) => access.Store is { } analytics
            ? Results.Json(await analytics.KnownPropertiesAsync(token), AnalyticsJson.Options)
            : NoAnalytics());
        app.MapGet("/profiles/{id}", async (string id, AnalyticsAccess access, CancellationToken token) => access.Store is { } analytics
            ? Results.Json((await analytics.ProfileUpdatesAsync(id, token)).Select(AnalyticsJson.ProfileJson.From), AnalyticsJson.Options)
            : NoAnalytics());
    }

    /// <summary>POST /segments: members, contacts or count of a segment, for the CLI while this process holds the embedded store.</summary>
    private static void MapSegments(this IEndpointRouteBuilder app) =>
        app.MapPost("/segments", async (AnalyticsJson.SegmentQuery query, AnalyticsAccess access, CancellationToken token) =>
        {
            if (access.Store is not { } analytics) return NoAnalytics();
            var parsed = Core.Campaigns.CampaignSpecParser.ParseSegment(query.Segment);
            if (!parsed.IsValid) return Results.Problem(statusCode: 400, title: "invalid segment", detail: string.Join("; ", parsed.Problems));
            var resolve = SavedResolver(query.Saved);
            try
            {
                return query.Answer switch
                {
                    "count" => Results.Json(await analytics.SegmentCountAsync(parsed.Segment!.Segment, query.Now, resolve, token), AnalyticsJson.Options),
                    "contacts" => Results.Json(await analytics.SegmentContactsAsync(parsed.Segment!.Segment, query.Now, resolve, token), AnalyticsJson.Options),
                    _ => Results.Problem(statusCode: 400, title: "unknown answer", detail: "answer is count or contacts"),
                };
            }
            catch (Analytics.Segments.SegmentException e)
            {
                return Results.Problem(statusCode: 400, title: "bad segment reference", detail: e.Message);
            }
        });

    /// <summary>POST /estimate: a campaign's reach estimate, for the CLI while this process holds the embedded store.</summary>
    private static void MapEstimate(this IEndpointRouteBuilder app) =>
        app.MapPost("/estimate", async (AnalyticsJson.EstimateQuery query, AnalyticsAccess access, StreamsOptions options, ICounterStore counters, CancellationToken token) =>
        {
            if (access.Store is not { } analytics) return NoAnalytics();
            var parsed = Core.Campaigns.CampaignSpecParser.Parse(query.Spec);
            if (!parsed.IsValid) return Results.Problem(statusCode: 400, title: "invalid campaign spec", detail: string.Join("; ", parsed.Problems));
            try
            {
                return Results.Json(await Estimates.Estimator.RunAsync(analytics, parsed.Spec!, SavedResolver(query.Saved), counters, options, query.Now, token),
                    AnalyticsJson.Options);
            }
            catch (Analytics.Segments.SegmentException e)
            {
                return Results.Problem(statusCode: 400, title: "bad segment reference", detail: e.Message);
            }
        });

    /// <summary>The saved segments the CLI sent (their files' JSON), by id, for <c>ref</c>.</summary>
    private static Func<string, Core.Campaigns.SegmentNode?> SavedResolver(IEnumerable<string> saved)
    {
        var byId = saved.Select(Core.Campaigns.CampaignSpecParser.ParseSegment).Where(p => p.IsValid)
            .ToDictionary(p => p.Segment!.Id, p => p.Segment!.Segment, StringComparer.Ordinal);
        return id => byId.GetValueOrDefault(id);
    }

    private static IResult NoAnalytics() =>
        Results.Problem(statusCode: 503, title: "no analytics here", detail: "this process runs no analytics sink (the embedded DuckDB file is held by the process that does)");
}

/// <summary>The analytics store when this process holds one (ClickHouse, or the embedded DuckDB file of the sink's process).</summary>
public sealed record AnalyticsAccess(IAnalyticsStore? Store, string Bootstrap);
