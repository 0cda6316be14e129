using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Jobs.Scheduling;

namespace Streams.Pipeline.Roles;

/// <summary>
/// Scheduled campaigns' runs (jobs/Streams.Jobs/Scheduling): every scheduler joins one group on sms.runs and the
/// owner of its partition plans. It reads the analytics store, so with the embedded DuckDB it runs in the process
/// that runs the sink.
/// </summary>
public sealed class SchedulerRole(PipelineHost host) : PipelineRole
{
    private KafkaRunLog? _runs;
    private readonly HttpClient _http = new();

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (host.Analytics is null)
            throw new ConfigException("the scheduler role reads the analytics store: configure clickhouse, or run it in the process that runs the sink (that process holds the embedded DuckDB file)");
        var logger = host.Loggers.CreateLogger<Scheduler>();
        _runs = new KafkaRunLog(host.KafkaSettings, host.Topics, host.Producer, logger);
        var segments = new SegmentClient(host.Bootstrap, host.Topics, host.Time, logger);
        var alerts = new Alerts(host.Producer, host.Topics, host.Options.Alerts.WebhookUri, _http, logger);
        var scheduler = new Scheduler(host.Analytics,
            () => [.. host.Campaigns.All().Where(c => c.Spec is not null).Select(c => (c.Record, c.Spec!))],
            () => [.. segments.List().Select(s => s.Segment)],
            _runs, new KafkaRunOutput(host.Producer, host.Topics, host.Bootstrap, logger), alerts, host.Time, logger)
        {
            CheckpointEvery = host.Options.Scheduler.CheckpointEvery,
        };
        Run(async () =>
        {
            await host.Campaigns.CaughtUp.WaitAsync(Stopping.Token);
            await scheduler.RunAsync(Scheduler.DefaultTick, Stopping.Token);
        });
        return Task.CompletedTask;
    }

    protected override void Release()
    {
        _runs?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _http.Dispose();
    }
}
