using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Streams.Analytics;
using Streams.Pipeline;

namespace Streams.Cli;

/// <summary>
/// The generic host of `streams run`: the pipeline's roles as hosted services, and the HTTP side (health, metrics,
/// webhooks, and the funnel for `streams report` while the pipeline holds the embedded store).
/// </summary>
public static class HttpHost
{
    /// <param name="runRoles">Run the pipeline's roles as this host's hosted services: started with it, and stopped
    /// with it (all at once, within the configured shutdown_grace).</param>
    public static async Task<WebApplication> StartAsync(PipelineHost pipeline, string url, CancellationToken ct, bool runRoles = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        if (runRoles) builder.Services.AddPipelineRoles(pipeline);
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 1024 * 1024);
        // Every 4xx/5xx without a body of its own (unknown path, wrong method, oversize request) becomes a JSON problem.
        builder.Services.AddProblemDetails();
        builder.AddTelemetry();
        var app = builder.Build();
        app.UseStatusCodePages();
        // Webhooks need Redis (the message notes): while it is away they answer 503, which providers retry.
        app.Use(async (http, next) =>
        {
            try
            {
                await next(http);
            }
            catch (Exception e) when (e is StackExchange.Redis.RedisException or Streams.Counters.CountersNotReadyException && !http.Response.HasStarted)
            {
                http.Response.Clear();
                await Results.Problem(statusCode: 503, title: "counters unavailable", detail: "Redis does not answer; retry later").ExecuteAsync(http);
            }
        });
        app.MapMetrics(pipeline);
        app.MapGet("/health", () => Results.Json(new { status = "ok", kafka = pipeline.Bootstrap }));
        app.MapGet("/report", async (string? campaign, CancellationToken token) => pipeline.Analytics is { } analytics
            ? Results.Text(FunnelJson.Serialize(await analytics.FunnelAsync(campaign, token)), "application/json")
            : NoAnalytics());
        app.MapGet("/properties", async (CancellationToken token) => pipeline.Analytics is { } analytics
            ? Results.Json(await analytics.KnownPropertiesAsync(token), CliContext.Json)
            : NoAnalytics());
        app.MapGet("/profiles/{id}", async (string id, CancellationToken token) => pipeline.Analytics is { } analytics
            ? Results.Json((await analytics.ProfileUpdatesAsync(id, token)).Select(AnalyticsReader.ProfileJson.From), CliContext.Json)
            : NoAnalytics());
        app.MapWebhooks(pipeline);
        await app.StartAsync(ct);
        return app;
    }

    public static string Address(WebApplication app) => app.Urls.First();

    private static void AddPipelineRoles(this IServiceCollection services, PipelineHost pipeline)
    {
        foreach (var role in pipeline.Roles) services.AddSingleton<Microsoft.Extensions.Hosting.IHostedService>(role);
        services.Configure<Microsoft.Extensions.Hosting.HostOptions>(o =>
        {
            // The roles' stop waits for what is in flight until this deadline, then gives up on it.
            o.ShutdownTimeout = pipeline.Options.ShutdownGraceSpan;
            o.ServicesStopConcurrently = true;
        });
    }

    private static IResult NoAnalytics() =>
        Results.Problem(statusCode: 503, title: "no analytics here", detail: "this process runs no analytics sink (the embedded DuckDB file is held by the process that does)");
}
