using Microsoft.Extensions.Logging;

namespace Streams.Pipeline.Roles;

/// <summary>The analytics sink: events, profiles and results into ClickHouse or the embedded DuckDB.</summary>
public sealed class SinkRole(PipelineHost host) : PipelineRole
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var sink = new AnalyticsSink(host.KafkaSettings, host.Topics, host.Analytics!, host.Loggers.CreateLogger<AnalyticsSink>(), host.Options.MaxInputBytes);
        Run(() => sink.RunAsync(Stopping.Token));
        return Task.CompletedTask;
    }
}
