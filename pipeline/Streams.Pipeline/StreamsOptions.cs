using Microsoft.Extensions.Configuration;
using Streams.Core;
using YamlDotNet.RepresentationModel;
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

    public TimeSpan ShutdownGraceSpan => Core.Campaigns.Durations.TryParse(ShutdownGrace, out var t) ? t : TimeSpan.FromSeconds(20);

    [ConfigurationKeyName("state_dir")]
    public string StateDir { get; set; } = ".streams";

    [ConfigurationKeyName("max_input_bytes")]
    public int MaxInputBytes { get; set; } = 64 * 1024;

    public Topics Topics => new(Kafka.TopicPrefix);

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

    public sealed class ProviderOptions
    {
        public string Type { get; set; } = "sandbox";

        /// <summary>API base URL (sinch: the region's, e.g. https://eu.sms.api.sinch.com; twilio: https://api.twilio.com).</summary>
        [ConfigurationKeyName("base_url")]
        public string? BaseUrl { get; set; }

        /// <summary>sinch: us, eu, au, br or ca, when base_url is not given.</summary>
        public string? Region { get; set; }

        [ConfigurationKeyName("service_plan_id")]
        public string? ServicePlanId { get; set; }

        [ConfigurationKeyName("account_sid")]
        public string? AccountSid { get; set; }

        /// <summary>http: where to POST, the body template (Liquid), and the answer's message id field.</summary>
        public string? Url { get; set; }

        public string? Body { get; set; }

        [ConfigurationKeyName("message_id_field")]
        public string? MessageIdField { get; set; } = "id";

        /// <summary>kannel: the sendsms-user (its password comes from token_env / token_file).</summary>
        public string? Username { get; set; }

        /// <summary>The API secret comes from this environment variable, or from the file at token_file; never from this file.</summary>
        [ConfigurationKeyName("token_env")]
        public string? TokenEnv { get; set; }

        [ConfigurationKeyName("token_file")]
        public string? TokenFile { get; set; }

        /// <summary>sinch: the secret its webhook signatures are made with (environment variable name).</summary>
        [ConfigurationKeyName("webhook_secret_env")]
        public string? WebhookSecretEnv { get; set; }

        public string? From { get; set; }

        [ConfigurationKeyName("messaging_service_sid")]
        public string? MessagingServiceSid { get; set; }

        /// <summary>This pipeline's webhook for the provider as the provider reaches it, e.g. https://sms.example.com/webhooks/sinch.</summary>
        [ConfigurationKeyName("callback_url")]
        public string? CallbackUrl { get; set; }

        /// <summary>group: the failover order.</summary>
        public List<string> Members { get; set; } = [];

        [ConfigurationKeyName("timeout_ms")]
        public int TimeoutMs { get; set; } = 10_000;

        [ConfigurationKeyName("max_retries")]
        public int MaxRetries { get; set; } = 3;

        [ConfigurationKeyName("retry_delay_ms")]
        public int RetryDelayMs { get; set; } = 200;

        [ConfigurationKeyName("break_for_ms")]
        public int BreakForMs { get; set; } = 30_000;

        /// <summary>The secret, read when needed: from the named environment variable or the file.</summary>
        public string Secret(string name, string? envName = null, string what = "token")
        {
            envName ??= TokenEnv;
            if (envName is not null)
                return Environment.GetEnvironmentVariable(envName) is { Length: > 0 } v
                    ? v
                    : throw new ConfigException($"providers.{name}: environment variable {envName} ({what}) is not set");
            if (what == "token" && TokenFile is not null)
                return File.Exists(TokenFile)
                    ? File.ReadAllText(TokenFile).Trim()
                    : throw new ConfigException($"providers.{name}: token_file {TokenFile} not found");
            throw new ConfigException($"providers.{name}: set token_env or token_file (secrets never go in the configuration file)");
        }

        /// <summary>How long after a send a delivery report must come before the request ends expired (no_delivery_report).</summary>
        [ConfigurationKeyName("report_timeout")]
        public string? ReportTimeout { get; set; }

        public TimeSpan? ReportTimeoutSpan => ReportTimeout is null ? null : Core.Campaigns.Durations.TryParse(ReportTimeout, out var t) ? t : null;

        /// <summary>Messages per second across every dispatcher; absent means unpaced.</summary>
        public double? Rate { get; set; }

        public int Burst { get; set; } = 1;

        /// <summary>Calls to this provider in flight at once (a batch API's call counts as one): a slow call does not hold the others.</summary>
        public int Concurrency { get; set; } = Dispatcher.RequestHandler.DefaultConcurrency;
    }

    // Sections of PRODUCT.md's configuration whose behaviour is not built yet: refused, never ignored.
    private static readonly string[] NotYet = ["segments", "alerts", "control"];

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

        foreach (var section in config.GetChildren())
        {
            if (NotYet.Contains(section.Key, StringComparer.OrdinalIgnoreCase))
                throw new ConfigException($"not supported yet: {section.Key.ToLowerInvariant()}");
        }
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
        options.Dnd?.ToWindow();
        if (!Core.Campaigns.Durations.TryParse(options.ShutdownGrace, out var grace) || grace <= TimeSpan.Zero)
            throw new ConfigException($"shutdown_grace: '{options.ShutdownGrace}' is not a duration like 20s");
        if (options.Kafka.GroupProtocol is { } protocol && protocol is not ("classic" or "consumer"))
            throw new ConfigException($"kafka.group_protocol: '{protocol}' is not classic or consumer");
        if (options.InstanceId is { } instance && !System.Text.RegularExpressions.Regex.IsMatch(instance, "^[A-Za-z0-9._-]{1,100}$"))
            throw new ConfigException("instance_id: use letters, digits, '.', '_' or '-' (at most 100)");
        if (options.OptOut.From is { } helpFrom && Senders.Problem(helpFrom) is { } helpWhy) throw new ConfigException($"opt_out.from: '{helpFrom}' {helpWhy}");
        if (options.Limits.PerUser is { Day: < 0 } or { Week: < 0 }) throw new ConfigException("limits.per_user: caps must be zero or more");
        foreach (var (name, provider) in options.Providers)
        {
            switch (provider.Type)
            {
                case "sandbox":
                    break;
                case "sinch":
                    if (provider.ServicePlanId is null) throw new ConfigException($"providers.{name}: sinch needs service_plan_id");
                    if (provider.Region is { } region && region is not ("us" or "eu" or "au" or "br" or "ca"))
                        throw new ConfigException($"providers.{name}.region: '{region}' is not one of us, eu, au, br, ca");
                    if (provider.TokenEnv is null && provider.TokenFile is null) throw new ConfigException($"providers.{name}: set token_env or token_file");
                    break;
                case "twilio":
                    if (provider.AccountSid is null) throw new ConfigException($"providers.{name}: twilio needs account_sid");
                    if (provider.TokenEnv is null && provider.TokenFile is null) throw new ConfigException($"providers.{name}: set token_env or token_file");
                    if (provider.MessagingServiceSid is { } sid && !System.Text.RegularExpressions.Regex.IsMatch(sid, "^MG[0-9a-f]{32}$"))
                        throw new ConfigException($"providers.{name}.messaging_service_sid: must look like MG followed by 32 hex digits");
                    break;
                case "kannel":
                    if (provider.BaseUrl is null || provider.Username is null) throw new ConfigException($"providers.{name}: kannel needs base_url and username");
                    if (provider.TokenEnv is null && provider.TokenFile is null) throw new ConfigException($"providers.{name}: set token_env or token_file (the sendsms password)");
                    break;
                case "http":
                    if (provider.Url is null || !Uri.TryCreate(provider.Url, UriKind.Absolute, out var gateway) || gateway.Scheme is not ("http" or "https"))
                        throw new ConfigException($"providers.{name}.url: an http provider needs an absolute http(s) URL");
                    if (provider.Body is { } body && Dispatcher.Providers.HttpGatewayProvider.Parse(body, out var error) is null)
                        throw new ConfigException($"providers.{name}.body: {CliLine(error)}");
                    break;
                case "group":
                    if (provider.Members.Count == 0) throw new ConfigException($"providers.{name}: a group needs members");
                    foreach (var m in provider.Members)
                    {
                        if (m != "sandbox" && !options.Providers.TryGetValue(m, out var member))
                            throw new ConfigException($"providers.{name}.members: no provider named '{m}'");
                        else if (m != "sandbox" && options.Providers[m].Type == "group")
                            throw new ConfigException($"providers.{name}.members: '{m}' is a group; groups do not nest");
                    }
                    break;
                default:
                    throw new ConfigException($"providers.{name}.type: '{provider.Type}' is not one of sandbox, sinch, twilio, kannel, http, group");
            }
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

    private static string CliLine(string? text) => string.Join(" ", (text ?? "invalid template").Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

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

public sealed class ConfigException(string message) : Exception(message);
