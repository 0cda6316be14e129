using Microsoft.Extensions.Configuration;
using Streams.Core;
using YamlDotNet.RepresentationModel;
using Streams.Dispatcher.Providers;
using Streams.Kafka;

namespace Streams.Pipeline;

/// <summary>Global configuration (PRODUCT.md): a YAML file, overridden by STREAMS__SECTION__KEY environment variables.</summary>
public sealed class StreamsOptions
{
    public KafkaOptions Kafka { get; set; } = new();
    public string? Redis { get; set; }

    /// <summary>Prefix of every Redis key, so several deployments (or test runs) can share one Redis.</summary>
    [ConfigurationKeyName("redis_prefix")]
    public string RedisPrefix { get; set; } = "streams:";
    public ClickHouseOptions? ClickHouse { get; set; }

    /// <summary>A Confluent-compatible Schema Registry: absent, inputs in the Confluent wire format are read with the pipeline's own schemas.</summary>
    [ConfigurationKeyName("schema_registry")]
    public SchemaRegistryOptions? SchemaRegistry { get; set; }
    public Dictionary<string, ProviderOptions> Providers { get; set; } = [];
    public LimitsOptions Limits { get; set; } = new();

    /// <summary>Default DND hours (user-local) for campaigns that set none; absent means none.</summary>
    public DndOptions? Dnd { get; set; }

    public sealed class DndOptions
    {
        public string? From { get; set; }
        public string? To { get; set; }
        public string Action { get; set; } = "delay";

        public DndWindow ToWindow()
        {
            static TimeOnly Time(string? text, string name) =>
                TimeOnly.TryParseExact(text, "HH:mm", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var t)
                    ? t : throw new ConfigException($"dnd.{name} must be a time of day like 21:00");
            var from = Time(From, "from");
            var to = Time(To, "to");
            if (from == to) throw new ConfigException("dnd: from and to must differ");
            return new DndWindow(from, to, Action switch
            {
                "delay" => DndMode.Delay,
                "discard" => DndMode.Discard,
                _ => throw new ConfigException("dnd.action must be delay or discard"),
            });
        }
    }

    [ConfigurationKeyName("opt_out")]
    public OptOutOptions OptOut { get; set; } = new();

    public SegmentsOptions Segments { get; set; } = new();

    public AlertsOptions Alerts { get; set; } = new();

    public SchedulerOptions Scheduler { get; set; } = new();

    public ControlOptions Control { get; set; } = new();

    public sealed class ControlOptions
    {
        /// <summary>
        /// A stable percent of all users held out of every campaign not marked <c>goal.transactional</c>: their conversion
        /// rate is the baseline beside every campaign's. 0: none.
        /// </summary>
        [ConfigurationKeyName("global_percent")]
        public double GlobalPercent { get; set; }
    }

    public sealed class SchedulerOptions
    {
        /// <summary>Users planned between two checkpoints of a run's cursor (what a new scheduler re-reads after a crash).</summary>
        [ConfigurationKeyName("checkpoint_every")]
        public int CheckpointEvery { get; set; } = 10_000;
    }

    public sealed class AlertsOptions
    {
        /// <summary>Where alerts (safety holds) are POSTed as JSON; absent: the log, metrics and sms.alerts only.</summary>
        public string? Webhook { get; set; }

        public Uri? WebhookUri => Webhook is { Length: > 0 } w ? new Uri(w) : null;
    }

    public sealed class SegmentsOptions
    {
        /// <summary>How often the segment job evaluates the saved segments live campaigns name (a duration like 5m).</summary>
        public string Refresh { get; set; } = "5m";

        public TimeSpan RefreshSpan => Core.Campaigns.Durations.TryParse(Refresh, out var t) ? t : TimeSpan.FromMinutes(5);
    }

    public sealed class OptOutOptions
    {
        [ConfigurationKeyName("help_reply")]
        public string HelpReply { get; set; } = "Reply STOP to unsubscribe.";

        /// <summary>Provider that sends HELP replies.</summary>
        public string Provider { get; set; } = "sandbox";

        public string? From { get; set; }
    }

    /// <summary>
    /// This instance's stable name (e.g. dispatcher-1), used as its static consumer group membership: a restarted
    /// instance takes its partitions back at once instead of after a rebalance. Unique per running instance.
    /// </summary>
    [ConfigurationKeyName("instance_id")]
    public string? InstanceId { get; set; }

    /// <summary>How long a stopping instance (SIGTERM) lets calls in flight finish before it gives up on them.</summary>
    [ConfigurationKeyName("shutdown_grace")]
    public string ShutdownGrace { get; set; } = "20s";

    /// <summary>
    /// How long the live topology holds an event of a user it has no profile for, waiting for the profile (produced with
    /// the first event, it may be read after it: the topics are read side by side). 0s judges such events at once.
    /// </summary>
    [ConfigurationKeyName("profile_wait")]
    public string ProfileWait { get; set; } = "2s";

    public TimeSpan ProfileWaitSpan => Core.Campaigns.Durations.TryParse(ProfileWait, out var t) ? t : TimeSpan.FromSeconds(2);

    public TimeSpan ShutdownGraceSpan => Core.Campaigns.Durations.TryParse(ShutdownGrace, out var t) ? t : TimeSpan.FromSeconds(20);

    [ConfigurationKeyName("state_dir")]
    public string StateDir { get; set; } = ".streams";

    [ConfigurationKeyName("max_input_bytes")]
    public int MaxInputBytes { get; set; } = 64 * 1024;

    private SchemaRegistryWire? _registry;

    /// <summary>The topics, read and written through the schema registry when one is configured (one client per options instance).</summary>
    public Topics Topics => new(Kafka.TopicPrefix, Registry);

    public SchemaRegistryWire? Registry => SchemaRegistry is not { Url: { Length: > 0 } url } registry ? null
        : _registry ??= SchemaRegistryWire.Create(url, registry.Auth?.Username, registry.Auth?.Password(), registry.Write == "confluent");

    public sealed class SchemaRegistryOptions
    {
        public string? Url { get; set; }
        public SchemaRegistryAuth? Auth { get; set; }

        /// <summary>How the pipeline writes its topics: single_object (Avro single-object encoding) or confluent (the wire format, TopicNameStrategy subjects).</summary>
        public string Write { get; set; } = "single_object";
    }

    public sealed class SchemaRegistryAuth
    {
        public string? Username { get; set; }

        [ConfigurationKeyName("password_env")]
        public string? PasswordEnv { get; set; }

        [ConfigurationKeyName("password_file")]
        public string? PasswordFile { get; set; }

        /// <summary>Read when the client is made, from the environment or a file: never from the configuration file.</summary>
        public string Password()
        {
            if (PasswordEnv is not null)
                return Environment.GetEnvironmentVariable(PasswordEnv) is { Length: > 0 } v
                    ? v : throw new ConfigException($"schema_registry.auth: environment variable {PasswordEnv} is not set");
            if (PasswordFile is not null)
                return File.Exists(PasswordFile) ? File.ReadAllText(PasswordFile).Trim() : throw new ConfigException($"schema_registry.auth: password_file {PasswordFile} not found");
            throw new ConfigException("schema_registry.auth: set password_env or password_file (secrets never go in the configuration file)");
        }
    }

    public sealed class KafkaOptions
    {
        public string? Bootstrap { get; set; }

        [ConfigurationKeyName("topic_prefix")]
        public string TopicPrefix { get; set; } = "sms.";

        /// <summary>
        /// The consumer group protocol of the pipeline's consumers: classic (any broker; static membership with
        /// instance_id, cooperative-sticky assignment) or consumer (KIP-848, Kafka 4.0+). Absent: classic on a
        /// configured cluster, consumer on the embedded one (the mock implements KIP-848's static membership).
        /// </summary>
        [ConfigurationKeyName("group_protocol")]
        public string? GroupProtocol { get; set; }

        /// <summary>
        /// How long the live topology's stream thread collects records before it processes them (Streamiz's poll.ms):
        /// Streamiz keeps polling for this long even after a record came, so it is what a lone event waits on top of
        /// Kafka's own latency, traded against the CPU an idle topology spends polling.
        /// </summary>
        [ConfigurationKeyName("poll_ms")]
        public int PollMs { get; set; } = DefaultPollMs;

        public const int DefaultPollMs = 2;
    }

    public sealed class ClickHouseOptions
    {
        public string? Url { get; set; }
        public string Database { get; set; } = "streams";
    }

    public sealed class LimitsOptions
    {
        /// <summary>Global frequency caps per user, counted in the user's own day and ISO week.</summary>
        [ConfigurationKeyName("per_user")]
        public PerUserOptions PerUser { get; set; } = new();

        public FrequencyCaps Caps => new(PerUser.Day, PerUser.Week);
    }

    public sealed class PerUserOptions
    {
        public int? Day { get; set; }
        public int? Week { get; set; }
    }

    public static StreamsOptions Load(string? configFile, IDictionary<string, string?>? overrides = null)
    {
        var builder = new ConfigurationBuilder();
        if (configFile is not null)
        {
            if (!File.Exists(configFile)) throw new ConfigException($"config file not found: {configFile}");
            builder.AddInMemoryCollection(FlattenYaml(File.ReadAllText(configFile), configFile));
        }
        builder.AddEnvironmentVariables("STREAMS__");
        if (overrides is not null) builder.AddInMemoryCollection(overrides);
        var config = builder.Build();

        ConfigKeys.Check(config);
        var options = new StreamsOptions();
        try
        {
            config.Bind(options);
        }
        catch (InvalidOperationException e)
        {
            throw new ConfigException($"invalid configuration: {e.Message}");
        }
        if (string.IsNullOrWhiteSpace(options.Kafka.Bootstrap)) options.Kafka.Bootstrap = null;
        if (string.IsNullOrWhiteSpace(options.Redis)) options.Redis = null;
        if (options.ClickHouse is { Url: null or "" }) options.ClickHouse = null;
        if (options.SchemaRegistry is { } registry)
        {
            if (!(Uri.TryCreate(registry.Url, UriKind.Absolute, out var registryUri) && registryUri.Scheme is "http" or "https"))
                throw new ConfigException($"schema_registry.url: '{registry.Url}' is not an http(s) URL");
            if (registryUri.UserInfo.Length > 0)
                throw new ConfigException("schema_registry.url: credentials in the URL are refused: use schema_registry.auth (username, password_env or password_file)");
            if (registry.Write is not ("single_object" or "confluent"))
                throw new ConfigException($"schema_registry.write: '{registry.Write}' is not single_object or confluent");
            if (registry.Auth is { } auth)
            {
                if (string.IsNullOrEmpty(auth.Username)) throw new ConfigException("schema_registry.auth.username: required with auth");
                auth.Password();
            }
        }
        options.Dnd?.ToWindow();
        if (options.Control.GlobalPercent is < 0 or >= 100)
            throw new ConfigException($"control.global_percent: {options.Control.GlobalPercent} is not at least 0 and below 100");
        if (options.Scheduler.CheckpointEvery < 100)
            throw new ConfigException($"scheduler.checkpoint_every: {options.Scheduler.CheckpointEvery} is below 100");
        if (options.Alerts.Webhook is { Length: > 0 } hook && !(Uri.TryCreate(hook, UriKind.Absolute, out var hookUri) && hookUri.Scheme is "http" or "https"))
            throw new ConfigException($"alerts.webhook: '{hook}' is not an http(s) URL");
        if (!Core.Campaigns.Durations.TryParse(options.Segments.Refresh, out var refresh) || refresh < TimeSpan.FromSeconds(10))
            throw new ConfigException($"segments.refresh: '{options.Segments.Refresh}' is not a duration of at least 10s (like 5m)");
        if (!Core.Campaigns.Durations.TryParse(options.ShutdownGrace, out var grace) || grace <= TimeSpan.Zero)
            throw new ConfigException($"shutdown_grace: '{options.ShutdownGrace}' is not a duration like 20s");
        if (!Core.Campaigns.Durations.TryParse(options.ProfileWait, out var wait) || wait < TimeSpan.Zero || wait > TimeSpan.FromMinutes(1))
            throw new ConfigException($"profile_wait: '{options.ProfileWait}' is not a duration from 0s to 1m (like 2s)");
        if (options.Kafka.PollMs is < 1 or > 1000)
            throw new ConfigException($"kafka.poll_ms: {options.Kafka.PollMs} is not between 1 and 1000");
        if (options.Kafka.GroupProtocol is { } protocol && protocol is not ("classic" or "consumer"))
            throw new ConfigException($"kafka.group_protocol: '{protocol}' is not classic or consumer");
        if (options.InstanceId is { } instance && !System.Text.RegularExpressions.Regex.IsMatch(instance, "^[A-Za-z0-9._-]{1,100}$"))
            throw new ConfigException("instance_id: use letters, digits, '.', '_' or '-' (at most 100)");
        if (options.OptOut.From is { } helpFrom && Senders.Problem(helpFrom) is { } helpWhy) throw new ConfigException($"opt_out.from: '{helpFrom}' {helpWhy}");
        if (options.Limits.PerUser is { Day: < 0 } or { Week: < 0 }) throw new ConfigException("limits.per_user: caps must be zero or more");
        foreach (var (name, provider) in options.Providers)
        {
            if (!ProviderKind.All.TryGetValue(provider.Type, out var kind))
                throw new ConfigException($"providers.{name}.type: '{provider.Type}' is not one of {string.Join(", ", ProviderKind.All.Keys)}");
            if (kind.Problem(name, provider, options.Providers) is { } problem) throw new ConfigException(problem);
            if (provider.From is { } sender && Senders.Problem(sender) is { } why) throw new ConfigException($"providers.{name}.from: '{sender}' {why}");
            if (provider.ReportTimeout is { } timeout && (!Core.Campaigns.Durations.TryParse(timeout, out var t) || t <= TimeSpan.Zero))
                throw new ConfigException($"providers.{name}.report_timeout: '{timeout}' is not a duration like 30s, 5m, 2h or 3d");
            if (provider.Concurrency < 1) throw new ConfigException($"providers.{name}.concurrency: must be at least 1");
            if (provider.Rate is <= 0 || provider.Burst < 1) throw new ConfigException($"providers.{name}: rate must be above 0 and burst at least 1");
        }
        return options;
    }

    /// <summary>
    /// This configuration with the backends embedded mode replaces (Kafka, Redis, ClickHouse) taken out; every
    /// other section (limits, dnd, opt_out, providers, ...) applies unchanged.
    /// </summary>
    public StreamsOptions WithEmbeddedBackends()
    {
        var copy = (StreamsOptions)MemberwiseClone();
        copy.Kafka = new KafkaOptions { TopicPrefix = Kafka.TopicPrefix };
        copy.Redis = null;
        copy.ClickHouse = null;
        return copy;
    }


    private static Dictionary<string, string?> FlattenYaml(string text, string file)
    {
        var result = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new ConfigException($"{file}: invalid YAML at line {e.Start.Line}: {e.InnerException?.Message ?? e.Message}");
        }
        if (stream.Documents.Count == 0) return result;
        void Walk(YamlNode node, string prefix)
        {
            switch (node)
            {
                case YamlMappingNode map:
                    foreach (var (k, v) in map.Children) Walk(v, prefix.Length == 0 ? k.ToString() : $"{prefix}:{k}");
                    break;
                case YamlSequenceNode seq:
                    for (var i = 0; i < seq.Children.Count; i++) Walk(seq.Children[i], $"{prefix}:{i}");
                    break;
                case YamlScalarNode s:
                    result[prefix] = s.Value;
                    break;
            }
        }
        Walk(stream.Documents[0].RootNode, "");
        return result;
    }
}

