using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Jobs;
using Streams.Kafka;

namespace Streams.Pipeline.Roles;

/// <summary>
/// The analytics sink (events, profiles and results into ClickHouse or the embedded DuckDB) and, beside it over the
/// same store, the segment job that keeps the live path's saved-segment memberships current.
/// </summary>
public sealed class SinkRole(PipelineHost host) : PipelineRole
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var sink = new AnalyticsSink(host.KafkaSettings, host.Topics, host.Analytics!, host.Loggers.CreateLogger<AnalyticsSink>(), host.Options.MaxInputBytes);
        Run(() => sink.RunAsync(Stopping.Token));
        var logger = host.Loggers.CreateLogger<SegmentJob>();
        var segments = new SegmentClient(host.Bootstrap, host.Topics, host.Time, logger);
        var job = new SegmentJob(host.Analytics!,
            () => [.. host.Campaigns.All().Where(c => c.Spec is not null).Select(c => (c.Record, c.Spec!))],
            () => [.. segments.List().Select(s => s.Segment)],
            host.Producer, host.Topics, host.Time, host.Options.Segments.RefreshSpan, logger);
        Run(async () =>
        {
            await host.Campaigns.CaughtUp.WaitAsync(Stopping.Token);
            using (var restore = new CancellationTokenSource(CampaignClient.ReadTimeout))
                job.Restore(TopicReader.ReadToEnd(host.Bootstrap, host.Topics.Memberships, logger, restore.Token));
            await job.RunAsync(Stopping.Token);
        });
        return Task.CompletedTask;
    }
}
