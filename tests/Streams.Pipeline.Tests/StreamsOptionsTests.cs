using Streams.Core;
namespace Streams.Pipeline.Tests;

public sealed class StreamsOptionsTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"streams-{Guid.NewGuid():N}.yaml");

    [Fact]
    public void Yaml_file_values_bind_and_overrides_win()
    {
        File.WriteAllText(_file, """
            kafka: {bootstrap: "broker:9092", topic_prefix: "acme."}
            redis: "redis:6379"
            clickhouse: {url: "http://ch:8123", database: analytics}
            limits: {per_user: {day: 3, week: 10}}
            max_input_bytes: 1024
            """);
        var options = StreamsOptions.Load(_file, new Dictionary<string, string?> { ["limits:per_user:day"] = "2" });
        Assert.Equal(("broker:9092", "acme.events", "redis:6379"), (options.Kafka.Bootstrap, options.Topics.Events, options.Redis));
        Assert.Equal(("http://ch:8123", "analytics"), (options.ClickHouse!.Url, options.ClickHouse.Database));
        Assert.Equal(new Core.FrequencyCaps(2, 10), options.Limits.Caps);
        Assert.Equal(1024, options.MaxInputBytes);
    }

    [Fact]
    public void Nothing_configured_means_embedded_everything()
    {
        var options = StreamsOptions.Load(null, new Dictionary<string, string?>());
        Assert.Equal((null, null, null), (options.Kafka.Bootstrap, options.Redis, options.ClickHouse));
        Assert.Equal(Core.FrequencyCaps.None, options.Limits.Caps);
    }

    [Fact]
    public void A_missing_file_or_bad_yaml_is_one_clear_error()
    {
        Assert.Equal($"config file not found: {_file}", Assert.Throws<ConfigException>(() => StreamsOptions.Load(_file)).Message);
        File.WriteAllText(_file, "kafka: [unclosed");
        Assert.StartsWith($"{_file}: invalid YAML at line", Assert.Throws<ConfigException>(() => StreamsOptions.Load(_file)).Message);
    }

    [Fact]
    public void The_readme_configuration_example_loads()
    {
        var readme = File.ReadAllText(Path.Combine(Streams.Tests.Repository.Root, "README.md"));
        var section = readme[readme.IndexOf("## Configure it for real infrastructure", StringComparison.Ordinal)..];
        var start = section.IndexOf("```yaml\n", StringComparison.Ordinal) + "```yaml\n".Length;
        File.WriteAllText(_file, section[start..section.IndexOf("```", start, StringComparison.Ordinal)]);
        var options = StreamsOptions.Load(_file, new Dictionary<string, string?>());
        Assert.Equal(new Core.FrequencyCaps(3, 10), options.Limits.Caps);
        Assert.Equal((100.0, 10), (options.Providers["sandbox"].Rate, options.Providers["sandbox"].Burst));
        Assert.Equal(new Core.DndWindow(new TimeOnly(21, 0), new TimeOnly(8, 0), Core.DndMode.Delay), options.Dnd!.ToWindow());
    }

    [Theory]
    [InlineData("limits: {per_user: {dya: 1}}", "unknown configuration key 'limits.per_user.dya' (expected one of: day, week)")]
    [InlineData("opt_out: {help_replay: Hi}", "unknown configuration key 'opt_out.help_replay' (expected one of: help_reply, provider, from)")]
    [InlineData("providers: {sandbox: {type: sandbox, rat: 5}}",
        "unknown configuration key 'providers.sandbox.rat' for a sandbox provider (expected one of: type, rate, burst, timeout_ms, max_retries, retry_delay_ms, break_for_ms, report_timeout, concurrency)")]
    [InlineData("providers: {gw: {type: http, url: \"http://x\", region: eu}}",
        "unknown configuration key 'providers.gw.region' for a http provider (expected one of: type, rate, burst, timeout_ms, max_retries, retry_delay_ms, break_for_ms, report_timeout, concurrency, url, body, message_id_field, token_env, token_file)")]
    [InlineData("kafka: {bootstrap: b, topic_prefix: p, extra: {deep: 1}}", "unknown configuration key 'kafka.extra' (expected one of: bootstrap, topic_prefix, group_protocol, poll_ms)")]
    [InlineData("dnd: {from: \"21:00\", to: \"08:00\", acton: discard}", "unknown configuration key 'dnd.acton' (expected one of: from, to, action)")]
    [InlineData("limits: {per_user: 3}", "limits.per_user: must be a section with keys day, week")]
    [InlineData("redis: {host: r}", "redis: must be a single value, not a section")]
    [InlineData("providers: {g: {type: group, members: {a: b}}}", "providers.g.members: must be a list (found key 'a')")]
    [InlineData("bogus: 1", "unknown configuration key 'bogus' (expected one of: kafka, redis, redis_prefix, clickhouse, schema_registry, providers, limits, dnd, opt_out, segments, alerts, scheduler, control, instance_id, shutdown_grace, profile_wait, state_dir, max_input_bytes)")]
    [InlineData("profile_wait: 5min", "profile_wait: '5min' is not a duration from 0s to 1m (like 2s)")]
    [InlineData("profile_wait: 2m", "profile_wait: '2m' is not a duration from 0s to 1m (like 2s)")]
    [InlineData("segments: {refersh: 5m}", "unknown configuration key 'segments.refersh' (expected one of: refresh)")]
    [InlineData("segments: {refresh: 2s}", "segments.refresh: '2s' is not a duration of at least 10s (like 5m)")]
    [InlineData("kafka: {poll_ms: 0}", "kafka.poll_ms: 0 is not between 1 and 1000")]
    [InlineData("control: {global_percent: 100}", "control.global_percent: 100 is not at least 0 and below 100")]
    [InlineData("control: {percent: 5}", "unknown configuration key 'control.percent' (expected one of: global_percent)")]
    [InlineData("alerts: {to: ops}", "unknown configuration key 'alerts.to' (expected one of: webhook)")]
    [InlineData("alerts: {webhook: \"ops@example.com\"}", "alerts.webhook: 'ops@example.com' is not an http(s) URL")]
    public void An_unknown_key_at_any_depth_is_an_error_with_its_path_and_the_expected_keys(string yaml, string error)
    {
        File.WriteAllText(_file, yaml);
        Assert.Equal(error, Assert.Throws<ConfigException>(() => StreamsOptions.Load(_file, new Dictionary<string, string?>())).Message);
    }

    [Fact]
    public void An_environment_override_with_a_typo_is_an_error_too()
    {
        var e = Assert.Throws<ConfigException>(() => StreamsOptions.Load(null, new Dictionary<string, string?> { ["LIMITS:PER_USER:DYA"] = "1" }));
        Assert.Equal("unknown configuration key 'limits.per_user.dya' (expected one of: day, week)", e.Message);
    }

    [Fact]
    public void The_embedded_stack_replaces_only_kafka_redis_and_clickhouse()
    {
        File.WriteAllText(_file, """
            kafka: {bootstrap: "broker:9092", topic_prefix: "acme."}
            redis: "redis:6379"
            redis_prefix: "x:"
            clickhouse: {url: "http://ch:8123"}
            limits: {per_user: {day: 1, week: 4}}
            dnd: {from: "21:00", to: "08:00", action: discard}
            opt_out: {help_reply: "Text STOP to leave", from: "+14155550100"}
            providers: {sandbox: {type: sandbox, rate: 50}}
            state_dir: /tmp/somewhere
            max_input_bytes: 2048
            """);
        var options = StreamsOptions.Load(_file, new Dictionary<string, string?>());
        var embedded = options.WithEmbeddedBackends();
        Assert.Equal((null, null, null), (embedded.Kafka.Bootstrap, embedded.Redis, embedded.ClickHouse));
        Assert.Equal("acme.", embedded.Kafka.TopicPrefix);
        // Every other setting, including ones added later, is carried over as it is.
        foreach (var property in typeof(StreamsOptions).GetProperties().Where(p => p.CanWrite && p.Name is not ("Kafka" or "Redis" or "ClickHouse")))
            Assert.Equal(property.GetValue(options), property.GetValue(embedded));
        Assert.Equal(new Core.FrequencyCaps(1, 4), embedded.Limits.Caps);
        Assert.Equal("Text STOP to leave", embedded.OptOut.HelpReply);
        Assert.Equal(Core.DndMode.Discard, embedded.Dnd!.ToWindow().Mode);
        Assert.Equal((2048, "/tmp/somewhere", "x:"), (embedded.MaxInputBytes, embedded.StateDir, embedded.RedisPrefix));
        Assert.Equal(50, embedded.Providers["sandbox"].Rate);
    }

    public void Dispose() => File.Delete(_file);
}
