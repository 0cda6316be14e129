using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Dispatcher;

namespace Streams.Pipeline.Roles;

/// <summary>The dispatcher over sms.requests, the consent loop (STOP/START/HELP, profile opt-ins) and the pending-report pump.</summary>
public sealed class DispatcherRole(PipelineHost host, string groupId) : PipelineRole
{
    private readonly List<IDisposable> _owned = [];

    public DispatcherLoop Dispatcher { get; private set; } = null!;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var options = host.Options;
        var loggers = host.Loggers;
        var providers = ProviderFactory.CreateRegistry(options, host.Time, host.Counters);
        _owned.AddRange(providers.All.OfType<IDisposable>());
        // Per dispatcher start, never reused: a restarted dispatcher must not mistake an old claim for its own (and two
        // dispatchers in one process are two owners).
        var claimant = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}";
        var handler = new RequestHandler(host.Counters, providers, host.Campaigns, host.Time, loggers.CreateLogger<RequestHandler>(), claimant,
            new DispatchSettings { Caps = options.Limits.Caps, DefaultDnd = options.Dnd?.ToWindow(), GlobalControl = options.Control.GlobalPercent });
        Dispatcher = new DispatcherLoop(
            new DispatcherOptions { Kafka = host.KafkaSettings, Topics = host.Topics, GroupId = groupId, MaxInputBytes = options.MaxInputBytes },
            handler, host.Producer, host.Results, loggers.CreateLogger<DispatcherLoop>(),
            new CounterGuard(host.Counters, host.Bootstrap, host.Topics, providers, host.Time, loggers.CreateLogger<CounterGuard>(), claimant));
        var consent = new ConsentLoop(
            new ConsentOptions
            {
                Kafka = host.KafkaSettings, Topics = host.Topics, HelpReply = options.OptOut.HelpReply, HelpProvider = options.OptOut.Provider, HelpFrom = options.OptOut.From,
            },
            host.Counters, providers, host.Producer, host.Results, host.Time, loggers.CreateLogger<ConsentLoop>());
        var pump = new ReportPump(host.Counters, host.Reports, host.Time, loggers.CreateLogger<ReportPump>());
        Run(() => consent.RunAsync(Stopping.Token));
        Run(() => pump.RunAsync(Stopping.Token));
        Run(async () =>
        {
            // Requests are judged against campaigns: wait until the campaigns that exist have been read.
            await host.Campaigns.CaughtUp.WaitAsync(Stopping.Token);
            await Dispatcher.RunAsync(Stopping.Token, Abandoning.Token);
        });
        return Task.CompletedTask;
    }

    protected override void Release()
    {
        foreach (var d in Enumerable.Reverse(_owned)) d.Dispose();
    }
}
