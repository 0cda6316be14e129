using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Errors;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.State;
using Streams.Analytics;
using Streams.Core;
using Streams.Counters;
using Streams.Dispatcher;
using Streams.Dispatcher.Providers;
using Streams.Topologies.LiveTrigger;
using Streams.Kafka;
using Streams.Topologies;

namespace Streams.Pipeline;

[Flags]
public enum PipelineRoles
{
    Topology = 1,
    Dispatcher = 2,
    Sink = 4,
    All = Topology | Dispatcher | Sink,
}

public sealed record PipelineHostOptions
{
    public PipelineRoles Roles { get; init; } = PipelineRoles.All;
    public string ApplicationId { get; init; } = "streams-live-trigger";
    public string DispatcherGroupId { get; init; } = "streams-dispatcher";
    public Func<SmsRequest, Task>? AfterSend { get; init; }
    /// <summary>Set by tests to run several dispatchers in one process; each gets its own owner id.</summary>
    public string? Owner { get; init; }
}

/// <summary>
/// The whole pipeline in one process: picks each backend (configured, else embedded), then starts
/// the roles asked for. Several processes with the same configuration share the work through
/// Kafka consumer groups and the Streamiz application id.
/// </summary>
public sealed class PipelineHost : IAsyncDisposable
{
    private readonly List<Task> _loops = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _abandon = new();
    private readonly List<IDisposable> _disposables = [];
    private KafkaStream? _stream;
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

    /// <summary>
    /// How long a fetch waits for data. librdkafka's default (500 ms) sits in every hop's latency when traffic
    /// is light (the mock cluster always waits it out); 100 ms keeps event→request latency low at little cost.
    /// </summary>
    public const int FetchWaitMaxMs = 100;

    public StreamsOptions Options { get; }
    public ILoggerFactory Loggers { get; }
    public TimeProvider Time { get; }
    public string Bootstrap { get; private set; } = "";
    public bool EmbeddedKafka { get; private set; }

    /// <summary>The consumer group protocol of the pipeline's consumers (see <see cref="StreamsOptions.KafkaOptions.GroupProtocol"/>).</summary>
    public string GroupProtocol => Options.Kafka.GroupProtocol ?? (EmbeddedKafka ? "consumer" : "classic");

    private KafkaSettings KafkaSettings => new(Bootstrap, Options.InstanceId, GroupProtocol);
    public Topics Topics => Options.Topics;
    public ICounterStore Counters { get; private set; } = null!;
    /// <summary>
    /// The analytics store: ClickHouse when configured; else the embedded DuckDB file, opened only by a process that
    /// runs the sink (one process holds the file, so roles can share a state dir). Null in other processes.
    /// </summary>
    public IAnalyticsStore? Analytics { get; private set; }
    public CampaignCache Campaigns { get; private set; } = null!;
    public string OutboxPath => Path.Combine(Options.StateDir, "outbox.jsonl");
    public DispatcherLoop? Dispatcher { get; private set; }

    /// <summary>The one writer of sms.results.</summary>
    private ResultWriter Results { get; set; } = null!;

    /// <summary>Writes delivery results (sandbox reports, webhooks) to sms.results.</summary>
    public ResultsReporter Reports { get; private set; } = null!;
    public Dispatcher.Webhooks.DeliveryReportHandler Webhooks { get; private set; } = null!;
    public IProducer<string, byte[]> Producer { get; private set; } = null!;
    public AnalyticsSink? Sink { get; private set; }

    /// <summary>Faults of a role's loop surface here, so a caller can stop instead of running half a pipeline.</summary>
    public Task Completion => FirstFaultAsync([.. _loops]);

    private static async Task FirstFaultAsync(List<Task> pending)
    {
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending);
            await done;
            pending.Remove(done);
        }
    }

    public static async Task<PipelineHost> StartAsync(StreamsOptions options, ILoggerFactory loggers, TimeProvider time,
        PipelineHostOptions? hostOptions = null, CancellationToken ct = default)
    {
        hostOptions ??= new PipelineHostOptions();
        var host = new PipelineHost(options, loggers, time);
        try
        {
            await host.StartBackendsAsync(hostOptions, ct);
            host.StartRoles(hostOptions);
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

    private void StartRoles(PipelineHostOptions hostOptions)
    {
        if (hostOptions.Roles.HasFlag(PipelineRoles.Topology)) StartTopology(hostOptions.ApplicationId);
        if (hostOptions.Roles.HasFlag(PipelineRoles.Dispatcher)) StartDispatcher(hostOptions);
        if (hostOptions.Roles.HasFlag(PipelineRoles.Sink))
        {
            Sink = new AnalyticsSink(KafkaSettings, Topics, Analytics!, Loggers.CreateLogger<AnalyticsSink>(), Options.MaxInputBytes);
            _loops.Add(Task.Run(() => Sink.RunAsync(_stop.Token)));
        }
    }

    private void StartTopology(string applicationId)
    {
        var config = new StreamConfig<StringSerDes, ByteArraySerDes>
        {
            ApplicationId = applicationId,
            BootstrapServers = Bootstrap,
            // Per instance: topology processes that share a state dir each keep their own RocksDB stores.
            StateDir = Path.Combine(Options.StateDir, "streamiz", Options.InstanceId ?? ""),
            AllowAutoCreateTopics = true,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            CommitIntervalMs = 200,
            // A stopped or dead instance's partitions move on after 10 s instead of the default 45 s.
            SessionTimeoutMs = 10000,
            FetchWaitMaxMs = FetchWaitMaxMs,
            PollMs = 20, // Streamiz polls for 100 ms by default; at 20 ms a lone event waits less (bench: p50 222 → 86 ms)
            Logger = Loggers,
        };
        var builder = new StreamBuilder();
        LiveTriggerTopology.Build(builder, new LiveTriggerOptions { Topics = Topics, MaxInputBytes = Options.MaxInputBytes, Time = Time });
        Topologies.Timers.ScheduledTopology.Build(builder, new Topologies.Timers.ScheduledOptions { Topics = Topics, Time = Time, MaxInputBytes = Options.MaxInputBytes });
        _stream = new KafkaStream(builder.Build(), config);
        // StartAsync returns once the stream threads run, so the topology's "loop" is its state: it ends only in
        // error or when it stops without being asked to (a host with only this role must keep running).
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _stream.StateChanged += (_, state) =>
        {
            if (state == KafkaStream.State.ERROR) ended.TrySetException(new InvalidOperationException("the live topology stopped with an error"));
            else if (state == KafkaStream.State.NOT_RUNNING && !_stop.IsCancellationRequested) ended.TrySetException(new InvalidOperationException("the live topology stopped"));
        };
        _loops.Add(RunTopologyAsync(_stream, ended));
    }

    private async Task RunTopologyAsync(KafkaStream stream, TaskCompletionSource ended)
    {
        await stream.StartAsync(_stop.Token);
        await using var stopping = _stop.Token.Register(() => ended.TrySetResult());
        await ended.Task;
    }

    private void StartDispatcher(PipelineHostOptions hostOptions)
    {
        var providers = ProviderFactory.CreateRegistry(Options, Time, Counters);
        foreach (var provider in providers.All.OfType<IDisposable>()) _disposables.Add(provider);
        // Per process start, never reused: a restarted dispatcher must not mistake an old claim for its own.
        var owner = hostOptions.Owner ?? $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}";
        var handler = new RequestHandler(Counters, providers, Campaigns, Time, Loggers.CreateLogger<RequestHandler>(), owner,
            new DispatchSettings { Caps = Options.Limits.Caps, DefaultDnd = Options.Dnd?.ToWindow() })
        {
            AfterSend = hostOptions.AfterSend,
        };
        Dispatcher = new DispatcherLoop(
            new DispatcherOptions
            {
                Kafka = KafkaSettings, Topics = Topics, GroupId = hostOptions.DispatcherGroupId, MaxInputBytes = Options.MaxInputBytes,
            },
            handler, Producer, Results, Loggers.CreateLogger<DispatcherLoop>(),
            new CounterGuard(Counters, Bootstrap, Topics, providers, Time, Loggers.CreateLogger<CounterGuard>(), owner));
        var consent = new ConsentLoop(
            new ConsentOptions
            {
                Kafka = KafkaSettings, Topics = Topics, HelpReply = Options.OptOut.HelpReply, HelpProvider = Options.OptOut.Provider, HelpFrom = Options.OptOut.From,
            },
            Counters, providers, Producer, Results, Time, Loggers.CreateLogger<ConsentLoop>());
        var pump = new ReportPump(Counters, Reports, Time, Loggers.CreateLogger<ReportPump>());
        _loops.Add(Task.Run(() => consent.RunAsync(_stop.Token)));
        _loops.Add(Task.Run(() => pump.RunAsync(_stop.Token)));
        _loops.Add(Task.Run(async () =>
        {
            // Requests are judged against campaigns: wait until the campaigns that exist have been read.
            await Campaigns.CaughtUp.WaitAsync(_stop.Token);
            await Dispatcher.RunAsync(_stop.Token, _abandon.Token);
        }));
    }

    /// <summary>
    /// Completes when the topology and the dispatcher both see this campaign version: the point from
    /// which an event is judged against it. Used by the demo and tests; a production apply does not wait.
    /// </summary>
    public async Task WaitForCampaignAsync(string id, int version, TimeSpan timeout)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!(Campaigns.Get(id)?.Record.Version >= version && (_stream is null || TopologySees(StoreNames.Campaigns, id, (byte[] c) => Topics.Campaigns.Decode(c).Version >= version))))
        {
            if (waited.Elapsed > timeout) throw new TimeoutException($"campaign {id} v{version} not visible within {timeout.TotalSeconds:0}s");
            await Task.Delay(20);
        }
    }

    /// <summary>Completes when the topology's profile table holds this user (tests use it to order profiles before events).</summary>
    public async Task WaitForProfileAsync(string userId, TimeSpan timeout)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!TopologySees(Topologies.State.UserState.StoreName, Topologies.State.UserState.ProfileKey(userId), (byte[] _) => true))
        {
            if (waited.Elapsed > timeout) throw new TimeoutException($"profile {userId} not in the topology within {timeout.TotalSeconds:0}s");
            await Task.Delay(20);
        }
    }

    private bool TopologySees<V>(string store, string key, Func<V, bool> check) where V : class
    {
        if (_stream is null) return false;
        try
        {
            var timestamped = _stream.Store(StoreQueryParameters.FromNameAndType(store, QueryableStoreTypes.TimestampedKeyValueStore<string, V>()));
            return timestamped.Get(key)?.Value is { } v && check(v);
        }
        catch (Exception e) when (e is InvalidStateStoreException or IllegalStateException or InvalidCastException)
        {
        }
        try
        {
            var plain = _stream.Store(StoreQueryParameters.FromNameAndType(store, QueryableStoreTypes.KeyValueStore<string, V>()));
            return plain.Get(key) is { } v && check(v);
        }
        catch (Exception e) when (e is InvalidStateStoreException or IllegalStateException or InvalidCastException)
        {
            return false;
        }
    }

    /// <summary>
    /// Stops taking work (a SIGTERM lands here): loops finish what is in flight (a provider call, the record of a
    /// send, the results) and commit; what waits for a pacing turn is left for the next owner. Past
    /// <see cref="StreamsOptions.ShutdownGraceSpan"/> calls in flight give up too.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _abandon.CancelAfter(Options.ShutdownGraceSpan);
        // A loop that faulted already reported it through Completion; stopping must still release everything.
        try { await Task.WhenAll(_loops).WaitAsync(Options.ShutdownGraceSpan + TimeSpan.FromSeconds(5)); }
        catch (Exception) { }
        _stream?.Dispose();
        if (Campaigns is not null) await Campaigns.DisposeAsync();
        foreach (var d in Enumerable.Reverse(_disposables)) d.Dispose();
        // After every role and producer stopped: the journal reads the embedded cluster to its end before it goes.
        if (_journal is not null) await _journal.DisposeAsync();
        _embeddedKafka?.Dispose();
        if (Counters is not null) await Counters.DisposeAsync();
        _embeddedRedis?.Dispose();
        if (Analytics is not null) await Analytics.DisposeAsync();
        _stop.Dispose();
        _abandon.Dispose();
    }
}
