using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Streams.Kafka;
using Streams.Counters;
using Streams.Dispatcher;

namespace Streams.Pipeline.Hosting;

/// <summary>
/// GET /metrics in Prometheus' text format, through OpenTelemetry's Prometheus exporter: per campaign the shared
/// result counters (sent, failed, delivered, suppressed by reason; from the counter store, so every dispatcher's
/// work), this process's dispatched results by status, webhook requests by path and status, consumer lag per group
/// and partition, batch and provider-call latency histograms. With OTEL_EXPORTER_OTLP_ENDPOINT set (OpenTelemetry's
/// standard variables), metrics and traces also go out over OTLP.
/// </summary>
public static class MetricsEndpoint
{
    private static readonly Counter<long> WebhookRequests =
        Telemetry.Meter.CreateCounter<long>("streams_webhook_requests", description: "Webhook requests by path and HTTP status.");

    private static readonly List<(CampaignCache Campaigns, ICounterStore Counters)> Hosts = [];

    private static readonly ObservableCounter<long> CampaignResults = Telemetry.Meter.CreateObservableCounter("streams_campaign_results",
        ObserveCampaignResults, description: "Results per campaign across all dispatchers (status, or suppressed:reason).");

    public static void AddStreamsTelemetry(this WebApplicationBuilder builder)
    {
        var otlp = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));
        var telemetry = builder.Services.AddOpenTelemetry();
        telemetry.WithMetrics(metrics =>
        {
            // A scrape sees what happened up to it: no cached answer.
            metrics.AddMeter(Telemetry.Name).AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
            if (otlp) metrics.AddOtlpExporter();
        });
        if (otlp) telemetry.WithTracing(tracing => tracing.AddSource(Telemetry.Name).AddOtlpExporter());
    }

    public static void MapMetrics(this WebApplication app)
    {
        var pipeline = (app.Services.GetRequiredService<CampaignCache>(), app.Services.GetRequiredService<ICounterStore>());
        lock (Hosts) Hosts.Add(pipeline);
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            lock (Hosts) Hosts.Remove(pipeline);
        });
        app.Use(async (http, next) =>
        {
            await next(http);
            if (http.Request.Path.StartsWithSegments("/webhooks"))
            {
                // Per endpoint, not per URL: inbound/{provider} is bounded by the providers we answer for.
                var path = http.Request.Path.Value!;
                WebhookRequests.Add(1, new KeyValuePair<string, object?>("path", path.Length > 64 ? path[..64] : path),
                    new KeyValuePair<string, object?>("status", http.Response.StatusCode));
            }
        });
        app.MapPrometheusScrapingEndpoint("/metrics");
    }

    private static List<Measurement<long>> ObserveCampaignResults()
    {
        List<(CampaignCache Campaigns, ICounterStore Counters)> hosts;
        lock (Hosts) hosts = [.. Hosts];
        var measurements = new List<Measurement<long>>();
        foreach (var host in hosts)
        {
            try
            {
                foreach (var campaign in host.Campaigns.All())
                {
                    // A scrape asks the counter store, which every dispatcher writes: the counts are the pipeline's, not this process's.
                    foreach (var (counter, value) in host.Counters.CampaignCountsAsync(campaign.Record.Id).GetAwaiter().GetResult())
                        measurements.Add(new Measurement<long>(value, new KeyValuePair<string, object?>("campaign", campaign.Record.Id),
                            new KeyValuePair<string, object?>("result", counter)));
                }
            }
            catch (Exception e) when (e is StackExchange.Redis.RedisException or ObjectDisposedException or CountersNotReadyException)
            {
                // Counters unavailable: this scrape has no campaign results (the webhooks answer 503 meanwhile).
            }
        }
        return measurements;
    }
}
