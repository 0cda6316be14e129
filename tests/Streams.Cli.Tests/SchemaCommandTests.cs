using Streams.Tests;

namespace Streams.Cli.Tests;

/// <summary>`streams schemas register` against a loopback server speaking the Schema Registry's REST API.</summary>
public sealed class SchemaCommandTests : IDisposable
{
    private readonly Cli _cli = new();

    [Fact]
    public async Task Register_puts_each_topics_schema_under_its_topic_name_subject_and_is_idempotent()
    {
        await using var registry = await FakeSchemaRegistry.StartAsync("ops:pw");
        var config = _cli.File("streams.yaml", $$$"""
            schema_registry: {url: "{{{registry.Url}}}", auth: {username: ops, password_env: REGISTRY_PW}}
            """);
        var env = new Dictionary<string, string> { ["REGISTRY_PW"] = "pw" };
        var first = await _cli.RunAsync(env, "schemas", "register", "--config", config);
        Assert.True(first.ExitCode == 0, first.Err);
        var lines = first.Out.Trim().Split('\n');
        Assert.Equal(12, lines.Length);
        Assert.Contains("sms.events-value\tstreams.UserEvent\tid ", first.Out);
        Assert.Contains("sms.results-value\tstreams.SmsResult\tid ", first.Out);
        Assert.Equal(12, registry.Subjects().Count);
        Assert.Equal(Kafka.Schemas.UserEvent.Fullname, Avro.Schema.Parse(registry.Latest("sms.events-value")!).Fullname);
        var again = await _cli.RunAsync(env, "schemas", "register", "--config", config);
        Assert.Equal(first.Out, again.Out);
    }

    [Fact]
    public async Task A_subject_whose_latest_schema_ours_cannot_read_is_refused_in_one_line()
    {
        await using var registry = await FakeSchemaRegistry.StartAsync();
        registry.Register("sms.events-value", """{"type": "record", "name": "UserEvent", "namespace": "streams", "fields": [{"name": "user_id", "type": "long"}]}""");
        var config = _cli.File("streams.yaml", $$$"""schema_registry: {url: "{{{registry.Url}}}"}""");
        var result = await _cli.RunAsync("schemas", "register", "--config", config);
        Assert.NotEqual(0, result.ExitCode);
        Assert.StartsWith("streams: schema registry refused subject sms.events-value", result.Err.Trim());
        Assert.Single(result.Err.Trim().Split('\n'));
    }

    [Fact]
    public async Task Register_without_a_registry_configured_says_so()
    {
        var result = await _cli.RunAsync("schemas", "register");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("schemas register needs schema_registry.url", result.Err);
    }

    [Theory]
    [InlineData("schema_registry: {url: \"ftp://x\"}", "schema_registry.url: 'ftp://x' is not an http(s) URL")]
    [InlineData("schema_registry: {url: \"http://ops:pw@r:8081\"}", "schema_registry.url: credentials in the URL are refused: use schema_registry.auth (username, password_env or password_file)")]
    [InlineData("schema_registry: {url: \"http://r:8081\", write: json}", "schema_registry.write: 'json' is not single_object or confluent")]
    [InlineData("schema_registry: {url: \"http://r:8081\", auth: {username: ops, password: pw}}", "unknown configuration key 'schema_registry.auth.password' (expected one of: username, password_env, password_file)")]
    [InlineData("schema_registry: {url: \"http://r:8081\", auth: {username: ops, password_env: STREAMS_TEST_UNSET_PW}}", "schema_registry.auth: environment variable STREAMS_TEST_UNSET_PW is not set")]
    public async Task A_bad_registry_configuration_is_one_line(string yaml, string error)
    {
        var config = _cli.File("streams.yaml", yaml);
        var result = await _cli.RunAsync("schemas", "list", "--config", config);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("streams: " + error, result.Err.Trim());
    }

    public void Dispose() => _cli.Dispose();
}
