using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Streams.Pipeline;

namespace Streams.Cli;

/// <summary>
/// GET /metrics in Prometheus' text format: per campaign the shared result counters (sent, failed, delivered,
/// suppressed by reason; from the counter store, so every dispatcher's work), this process's dispatched results,
/// and webhook requests by path and status.
/// </summary>
public static class MetricsEndpoint
{
    public static void MapMetrics(this WebApplication app, PipelineHost pipeline)
    {
        var webhooks = new ConcurrentDictionary<(string Path, int Status), long>();
        var produced = new ConcurrentDictionary<string, long>();
        if (pipeline.Dispatcher is { } dispatcher) dispatcher.Produced += r => produced.AddOrUpdate(r.Status, 1, (_, n) => n + 1);
        app.Use(async (http, next) =>
        {
            await next(http);
            if (http.Request.Path.StartsWithSegments("/webhooks"))
            {
                // Per endpoint, not per URL: inbound/{provider} is bounded by the providers we answer for.
                var path = http.Request.Path.Value!;
                webhooks.AddOrUpdate((path.Length > 64 ? path[..64] : path, http.Response.StatusCode), 1, (_, n) => n + 1);
            }
        });
        app.MapGet("/metrics", async () =>
        {
            var text = new StringBuilder();
            text.AppendLine("# HELP streams_campaign_results_total Results per campaign across all dispatchers (status, or suppressed:reason).");
            text.AppendLine("# TYPE streams_campaign_results_total counter");
            foreach (var campaign in pipeline.Campaigns.All())
            {
                foreach (var (counter, value) in (await pipeline.Counters.CampaignCountsAsync(campaign.Record.Id)).OrderBy(c => c.Key, StringComparer.Ordinal))
                    text.AppendLine(CultureInfo.InvariantCulture, $"streams_campaign_results_total{{campaign=\"{Escape(campaign.Record.Id)}\",result=\"{Escape(counter)}\"}} {value}");
            }
            text.AppendLine("# HELP streams_dispatcher_results_total Results this process's dispatcher produced, by status.");
            text.AppendLine("# TYPE streams_dispatcher_results_total counter");
            foreach (var (status, n) in produced.OrderBy(p => p.Key, StringComparer.Ordinal))
                text.AppendLine(CultureInfo.InvariantCulture, $"streams_dispatcher_results_total{{status=\"{Escape(status)}\"}} {n}");
            text.AppendLine("# HELP streams_webhook_requests_total Webhook requests by path and HTTP status.");
            text.AppendLine("# TYPE streams_webhook_requests_total counter");
            foreach (var ((path, status), n) in webhooks.OrderBy(w => w.Key.Path, StringComparer.Ordinal).ThenBy(w => w.Key.Status))
                text.AppendLine(CultureInfo.InvariantCulture, $"streams_webhook_requests_total{{path=\"{Escape(path)}\",status=\"{status}\"}} {n}");
            return Results.Text(text.ToString(), "text/plain; version=0.0.4");
        });
    }

    private static string Escape(string v) => v.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
