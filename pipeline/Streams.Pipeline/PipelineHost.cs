using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streams.Analytics;
using Streams.Core;
using Streams.Counters;
using Streams.Dispatcher;
using Streams.Kafka;
using Streams.Topologies;
using Streams.Pipeline.Roles;

namespace Streams.Pipeline;

[Flags]
public enum PipelineRoles
{
    Topology = 1,
    Dispatcher = 2,
    Sink = 4,
    Scheduler = 8,
    /// <summary>Conversion attribution: its own Streamiz application over sms.events and sms.results.</summary>
    Attribution = 16,
    All = Topology | Dispatcher | Sink | Scheduler | Attribution,
}

public sealed record PipelineHostOptions
{
    public PipelineRoles Roles { get; init; } = PipelineRoles.All;
    public string ApplicationId { get; init; } = "streams-live-trigger";
    public string DispatcherGroupId { get; init; } = "streams-dispatcher";
}

/// <summary>
/// The whole pipeline in one process: picks each backend (configured, else embedded), then starts
/// the roles asked for. Several processes with the same configuration share the work through
/// Kafka consumer groups and the Streamiz application id.
/// </summary>
public sealed class PipelineHost : IAsyncDisposable
{
    private readonly List<PipelineRole> _roles = [];
    private readonly List<IDisposable> _disposables = [];
    private TopologyRole? _topology;
    private EmbeddedRedis? _embeddedRedis;
    private Kafka.EmbeddedKafka? _embeddedKafka;
    private KafkaJournal? _journal;

    /// <summary>host:port of the embedded counters (Garnet) when this process holds them, for other processes to join.</summary>
    public string? EmbeddedRedisEndpoint => _embeddedRedis?.Endpoint;

    /// <summary>Records the embedded cluster's journal restored at start (0 on a first start or with a real cluster).</summary>
    public long RestoredRecords => _journal?.Restored ?? 0;

    private PipelineHost(StreamsOptions options, ILoggerFactory loggers, TimeProvider time)
    {
        Options = options;
        Loggers = loggers;
        Time = time;
    }


    public StreamsOptions Options { get; }
    public ILoggerFactory Loggers { get; }
    public TimeProvider Time { get; }
    public string Bootstrap { get; private set; } = "";
    public bool EmbeddedKafka { get; private set; }

    /// <summary>The consumer group protocol of the pipeline's consumers (see <see cref="StreamsOptions.KafkaOptions.GroupProtocol"/>).</summary>
    public string GroupProtocol => Options.Kafka.GroupProtocol ?? (EmbeddedKafka ? "consumer" : "classic");

    internal KafkaSettings KafkaSettings => new(Bootstrap, Options.InstanceId, GroupProtocol);
    public Topics Topics => Options.Topics;
    public ICounterStore Counters { get; private set; } = null!;
    /// <summary>
    /// The analytics store: ClickHouse when configured; else the embedded DuckDB file, opened only by a process that
    /// runs the sink (one process holds the file, so roles can share a state dir). Null in other processes.
    /// </summary>
    public IAnalyticsStore? Analytics { get; private set; }
    public CampaignCache Campaigns { get; private set; } = null!;
    public string OutboxPath => Path.Combine(Options.StateDir, "outbox.jsonl");
    public DispatcherLoop? Dispatcher => _roles.OfType<DispatcherRole>().FirstOrDefault()?.Dispatcher;

    /// <summary>The one writer of sms.results.</summary>
    internal ResultWriter Results { get; private set; } = null!;

    /// <summary>Writes delivery results (sandbox reports, webhooks) to sms.results.</summary>
    public ResultsReporter Reports { get; private set; } = null!;
    public Dispatcher.Webhooks.DeliveryReportHandler Webhooks { get; private set; } = null!;
    public IProducer<string, byte[]> Producer { get; private set; } = null!;

    /// <summary>Faults of a role's loop surface here, so a caller can stop instead of running half a pipeline.</summary>
    public Task Completion => FirstFaultAsync([.. _roles.SelectMany(r => r.Loops)]);

    private static async Task FirstFaultAsync(List<Task> pending)
    {
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending);
            await done;
            pending.Remove(done);
        }
    }

    /// <param name="startRoles">False when a generic host runs the <see cref="Roles"/> as its hosted services (`streams run`).</param>
    public static async Task<PipelineHost> StartAsync(StreamsOptions options, ILoggerFactory loggers, TimeProvider time,
        PipelineHostOptions? hostOptions = null, CancellationToken ct = default, bool startRoles = true)
    {
        hostOptions ??= new PipelineHostOptions();
        var host = new PipelineHost(options, loggers, time);
        try
        {
            await host.StartBackendsAsync(hostOptions, ct);
            host.CreateRoles(hostOptions);
            if (startRoles) foreach (var role in host._roles) await role.StartAsync(ct);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    private async Task StartBackendsAsync(PipelineHostOptions hostOptions, CancellationToken ct)
    {
        Directory.CreateDirectory(Options.StateDir);
        // Writing the wire format needs each subject's id: asked now, a registry that refuses the schemas stops the start
        // instead of the first produce. Only the topics the pipeline writes: sms.events and sms.profiles belong to
        // their producers (`streams schemas register` registers those when asked to).
        if (Options.Registry is { WriteOutputs: true } registry)
            await Task.Run(() =>
            {
                foreach (var (topic, schema) in Topics.Schemas.Where(t => t.Topic != Topics.Events.Name && t.Topic != Topics.Profiles.Name))
                    registry.IdFor(topic, schema);
            }, ct);
        if (Options.Kafka.Bootstrap is { } bootstrap)
        {
            Bootstrap = bootstrap;
        }
        else
        {
            _embeddedKafka = new Kafka.EmbeddedKafka();
            Bootstrap = _embeddedKafka.Bootstrap;
            EmbeddedKafka = true;
            Kafka.EmbeddedKafka.EnsureTopics(Bootstrap, Topics);
            string[] groups = [hostOptions.ApplicationId, hostOptions.DispatcherGroupId, ConsentLoop.GroupId, AnalyticsSink.GroupId];
            _journal = await KafkaJournal.OpenAsync(Bootstrap, Path.Combine(Options.StateDir, "kafka"), groups, Loggers.CreateLogger<KafkaJournal>(), ct);
            // Streamiz's local stores are rebuilt from the restored changelogs, which are what the journal kept.
            var stores = Path.Combine(Options.StateDir, "streamiz");
            if (_journal.Restored > 0 && Directory.Exists(stores)) Directory.Delete(stores, recursive: true);
        }
        if (Options.Redis is { } redis)
        {
            Counters = await RedisCounterStore.ConnectAsync(redis, Options.RedisPrefix);
        }
        else
        {
            _embeddedRedis = EmbeddedRedis.Start(Path.Combine(Options.StateDir, "redis"));
            Counters = await _embeddedRedis.ConnectAsync(Options.RedisPrefix);
        }
        Analytics = Options.ClickHouse is { Url: { } url } ch
            ? ClickHouseStore.Create(url, ch.Database)
            : hostOptions.Roles.HasFlag(PipelineRoles.Sink) ? DuckDbStore.Open(Path.Combine(Options.StateDir, "analytics.duckdb")) : null;
        if (Analytics is not null) await Analytics.MigrateAsync(ct);
        Campaigns = new CampaignCache(Bootstrap, Topics, Loggers.CreateLogger<CampaignCache>());
        var producer = KafkaClients.Producer(Bootstrap);
        _disposables.Add(producer);
        Producer = producer;
        Results = new ResultWriter(producer, Topics);
        Reports = new ResultsReporter(Results, Counters);
        Webhooks = new Dispatcher.Webhooks.DeliveryReportHandler(Counters, Reports, Time);
    }

    /// <summary>The roles asked for, each a hosted service; started in this order, stopped together.</summary>
    public IReadOnlyList<PipelineRole> Roles => _roles;

    private void CreateRoles(PipelineHostOptions hostOptions)
    {
        if (hostOptions.Roles.HasFlag(PipelineRoles.Topology)) _roles.Add(_topology = TopologyRole.Live(this, hostOptions.ApplicationId));
        if (hostOptions.Roles.HasFlag(PipelineRoles.Attribution)) _roles.Add(TopologyRole.Attribution(this, hostOptions.ApplicationId));
        if (hostOptions.Roles.HasFlag(PipelineRoles.Dispatcher))
            _roles.Add(new DispatcherRole(this, hostOptions.DispatcherGroupId));
        if (hostOptions.Roles.HasFlag(PipelineRoles.Sink)) _roles.Add(new SinkRole(this));
        if (hostOptions.Roles.HasFlag(PipelineRoles.Scheduler)) _roles.Add(new SchedulerRole(this));
    }

    /// <summary>
    /// Completes when the topology and the dispatcher both see this campaign version: the point from
    /// which an event is judged against it. Used by the demo and tests; a production apply does not wait.
    /// </summary>
    public async Task WaitForCampaignAsync(string id, int version, TimeSpan timeout)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!(Campaigns.Get(id)?.Record.Version >= version && (_topology is null || _topology.Sees(StoreNames.Campaigns, id, (byte[] c) => Topics.Campaigns.Decode(c).Version >= version))))
        {
            if (waited.Elapsed > timeout) throw new TimeoutException($"campaign {id} v{version} not visible within {timeout.TotalSeconds:0}s ({_topology?.Describe() ?? "no topology"})");
            await Task.Delay(20);
        }
    }

    /// <summary>Completes when the topology's profile table holds this user: the demo (and tests) order profiles before events with it.</summary>
    public async Task WaitForProfileAsync(string userId, TimeSpan timeout)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (_topology?.Sees(Topologies.State.UserState.StoreName, Topologies.State.UserState.ProfileKey(userId), (byte[] _) => true) != true)
        {
            if (waited.Elapsed > timeout) throw new TimeoutException($"profile {userId} not in the topology within {timeout.TotalSeconds:0}s ({_topology?.Describe()})");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Stops taking work (a SIGTERM lands here): loops finish what is in flight (a provider call, the record of a
    /// send, the results) and commit; what waits for a pacing turn is left for the next owner. Past
    /// <see cref="StreamsOptions.ShutdownGraceSpan"/> calls in flight give up too.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        using (var deadline = new CancellationTokenSource(Options.ShutdownGraceSpan))
            await Task.WhenAll(_roles.Select(r => r.StopAsync(deadline.Token)));
        if (Campaigns is not null) await Campaigns.DisposeAsync();
        foreach (var d in Enumerable.Reverse(_disposables)) d.Dispose();
        // After every role and producer stopped: the journal reads the embedded cluster to its end before it goes.
        if (_journal is not null) await _journal.DisposeAsync();
        _embeddedKafka?.Dispose();
        if (Counters is not null) await Counters.DisposeAsync();
        _embeddedRedis?.Dispose();
        if (Analytics is not null) await Analytics.DisposeAsync();
    }
}
