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

    public void Dispose() => File.Delete(_file);
}
