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
        var readme = File.ReadAllText(Path.Combine(RepoRoot(), "README.md"));
        var section = readme[readme.IndexOf("## Configure it for real infrastructure", StringComparison.Ordinal)..];
        var start = section.IndexOf("```yaml\n", StringComparison.Ordinal) + "```yaml\n".Length;
        File.WriteAllText(_file, section[start..section.IndexOf("```", start, StringComparison.Ordinal)]);
        var options = StreamsOptions.Load(_file, new Dictionary<string, string?>());
        Assert.Equal(new Core.FrequencyCaps(3, 10), options.Limits.Caps);
        Assert.Equal((100.0, 10), (options.Providers["sandbox"].Rate, options.Providers["sandbox"].Burst));
        Assert.Equal(new Core.DndWindow(new TimeOnly(21, 0), new TimeOnly(8, 0), Core.DndMode.Delay), options.Dnd!.ToWindow());
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Streams.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("Streams.sln not found above the test directory");
    }

    public void Dispose() => File.Delete(_file);
}
