using Confluent.Kafka;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Errors;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.State;
using Streams.Topologies;
using Streams.Topologies.Attribution;
using Streams.Topologies.LiveTrigger;
using Streams.Topologies.Timers;

namespace Streams.Pipeline.Roles;

/// <summary>
/// One Streamiz application as a role: the live topology (triggers, inaction, reminders and the sms.scheduled timers),
/// or conversion attribution (<see cref="Attribution"/>; its own application: it reads sms.events too, and a topic has
/// one source per application).
/// </summary>
public sealed class TopologyRole(PipelineHost host, string applicationId, string name, Action<StreamBuilder> build, bool latencySensitive = true) : PipelineRole
{
    /// <summary>
    /// How long a fetch waits for data. librdkafka's default (500 ms) sits in every hop's latency when traffic
    /// is light (the mock cluster always waits it out); 100 ms keeps event→request latency low at little cost.
    /// </summary>
    public const int FetchWaitMaxMs = 100;

    private KafkaStream? _stream;
    private ClosingKafkaSupplier? _clients;
    private readonly List<string> _states = [];

    /// <summary>The application's states so far with their wall-clock instants, for an error message when a wait runs out.</summary>
    public string Describe()
    {
        lock (_states) return $"{name}: {(_states.Count == 0 ? "not started" : string.Join(", ", _states))}";
    }

    /// <summary>The live topology: events and profiles to requests, and the durable timers.</summary>
    public static TopologyRole Live(PipelineHost host, string applicationId) => new(host, applicationId, "the live topology", builder =>
    {
        LiveTriggerTopology.Build(builder, new LiveTriggerOptions
        {
            Topics = host.Topics, MaxInputBytes = host.Options.MaxInputBytes, Time = host.Time, ProfileWait = host.Options.ProfileWaitSpan,
        });
        ScheduledTopology.Build(builder, new ScheduledOptions { Topics = host.Topics, Time = host.Time, MaxInputBytes = host.Options.MaxInputBytes });
    });

    /// <summary>
    /// Conversion attribution (application id + "-attribution"). Nobody waits on a conversion the way a user waits on a
    /// message, so it polls and commits at Streamiz's own pace and costs little while traffic is light.
    /// </summary>
    public static TopologyRole Attribution(PipelineHost host, string applicationId) => new(host, applicationId + "-attribution", "the attribution topology",
        builder => AttributionTopology.Build(builder, new AttributionOptions { Topics = host.Topics, Time = host.Time, MaxInputBytes = host.Options.MaxInputBytes }),
        latencySensitive: false);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var options = host.Options;
        var config = new StreamConfig<StringSerDes, ByteArraySerDes>
        {
            ApplicationId = applicationId,
            BootstrapServers = host.Bootstrap,
            // Per instance: topology processes that share a state dir each keep their own RocksDB stores.
            StateDir = Path.Combine(options.StateDir, "streamiz", options.InstanceId ?? ""),
            AllowAutoCreateTopics = true,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            CommitIntervalMs = latencySensitive ? 200 : 1000,
            // A stopped or dead instance's partitions move on after 10 s instead of the default 45 s.
            SessionTimeoutMs = 10000,
            FetchWaitMaxMs = latencySensitive ? FetchWaitMaxMs : 500,
            PollMs = latencySensitive ? options.Kafka.PollMs : 100,
            Logger = host.Loggers,
        };
        var builder = new StreamBuilder();
        build(builder);
        _clients = new ClosingKafkaSupplier(config);
        _stream = new KafkaStream(builder.Build(), config, _clients);
        // StartAsync returns once the stream threads run, so the topology's "loop" is its state: it ends only in
        // error or when it stops without being asked to (a host with only this role must keep running).
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _stream.StateChanged += (_, state) =>
        {
            lock (_states) _states.Add($"{state} at {DateTimeOffset.UtcNow:HH:mm:ss.fff}");
            if (state == KafkaStream.State.ERROR) ended.TrySetException(new InvalidOperationException($"{name} stopped with an error"));
            else if (state == KafkaStream.State.NOT_RUNNING && !Stopping.IsCancellationRequested) ended.TrySetException(new InvalidOperationException($"{name} stopped"));
        };
        Run(RunAsync(_stream, ended));
        return Task.CompletedTask;
    }

    private async Task RunAsync(KafkaStream stream, TaskCompletionSource ended)
    {
        await stream.StartAsync(Stopping.Token);
        await using var stopping = Stopping.Token.Register(() => ended.TrySetResult());
        await ended.Task;
    }

    /// <summary>Whether this instance's store holds the key with a value that passes the check (an interactive query).</summary>
    public bool Sees<V>(string store, string key, Func<V, bool> check) where V : class
    {
        if (_stream is not { } stream) return false;
        try
        {
            var timestamped = stream.Store(StoreQueryParameters.FromNameAndType(store, QueryableStoreTypes.TimestampedKeyValueStore<string, V>()));
            return timestamped.Get(key)?.Value is { } v && check(v);
        }
        catch (Exception e) when (e is InvalidStateStoreException or IllegalStateException or InvalidCastException)
        {
        }
        try
        {
            var plain = stream.Store(StoreQueryParameters.FromNameAndType(store, QueryableStoreTypes.KeyValueStore<string, V>()));
            return plain.Get(key) is { } v && check(v);
        }
        catch (Exception e) when (e is InvalidStateStoreException or IllegalStateException or InvalidCastException)
        {
            return false;
        }
    }

    protected override void Release()
    {
        _stream?.Dispose();
        _clients?.Dispose();
    }
}
