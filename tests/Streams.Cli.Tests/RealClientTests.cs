using System.Diagnostics;
using System.Text.Json;
using Streams.Tests;
using Xunit.Abstractions;

namespace Streams.Cli.Tests;

/// <summary>
/// Clients that are not ours, running the producers in examples/: kcat (Debian's), kafkajs (npm) and Confluent.Kafka,
/// in JSON and in the Confluent wire format, against `streams run --embedded` (the librdkafka mock cluster, real Kafka
/// protocol) with a loopback Schema Registry; each reads its user's result back from sms.results, which the pipeline
/// writes in the wire format (schema_registry.write: confluent).
/// </summary>
public sealed class RealClientTests(RealClientTests.Stack stack, ITestOutputHelper log) : IClassFixture<RealClientTests.Stack>
{
    public sealed class Stack : IAsyncLifetime
    {
        public Cli Cli { get; } = new();
        public FakeSchemaRegistry Registry { get; private set; } = null!;
        public string Bootstrap { get; private set; } = "";
        public string Http { get; private set; } = "";
        private Process? _run;

        public async Task InitializeAsync()
        {
            Registry = await FakeSchemaRegistry.StartAsync();
            var config = Cli.File("streams.yaml", $$$"""
                schema_registry: {url: "{{{Registry.Url}}}", write: confluent}
                """);
            var spec = Cli.File("welcome.yaml", """
                id: welcome
                name: Welcome
                type: live
                who: {trigger: {event: Signed Up}}
                what: {provider: sandbox, from: "+14155550100", text: "Welcome!"}
                """);
            _run = Cli.Start("run", "--embedded", "--config", config);
            var embedded = Path.Combine(Cli.Dir, ".streams", "embedded.json");
            var waited = Stopwatch.StartNew();
            while (!File.Exists(embedded) && waited.Elapsed < TimeSpan.FromSeconds(60) && !_run.HasExited) await Task.Delay(100);
            if (!File.Exists(embedded)) throw new InvalidOperationException("run --embedded did not write .streams/embedded.json: " + await _run.StandardError.ReadToEndAsync());
            var info = JsonDocument.Parse(File.ReadAllText(embedded)).RootElement;
            Bootstrap = info.GetProperty("kafka").GetString()!;
            Http = info.GetProperty("http").GetString()!;
            var applied = await Cli.RunAsync("campaign", "apply", "-f", spec, "--config", config);
            if (applied.ExitCode != 0) throw new InvalidOperationException(applied.Err);
        }

        public async Task DisposeAsync()
        {
            if (_run is { HasExited: false }) _run.Kill(entireProcessTree: true);
            if (_run is not null) await _run.WaitForExitAsync();
            _run?.Dispose();
            await Registry.DisposeAsync();
            Cli.Dispose();
        }
    }

    private static string Examples => Path.Combine(Repository.Root, "examples");
    private static string SchemasDir => Path.Combine(Repository.Root, "schemas", "streams");

    private Task<(int Exit, string Out, string Err)> Exec(string file, params string[] args) =>
        Commands.RunAsync(log, file, Examples, TimeSpan.FromSeconds(150), args);

    private static string User(string client) => $"{client}-{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>Reads sms.results with kcat until the user's delivered result is there (a pure reader: no group).</summary>
    private async Task<string> KcatResults(string user)
    {
        var waited = Stopwatch.StartNew();
        var lines = "";
        while (waited.Elapsed < TimeSpan.FromSeconds(90))
        {
            lines = (await Exec(Path.Combine(Examples, "kcat", "results.sh"), stack.Bootstrap, user)).Out;
            if (lines.Contains("delivered", StringComparison.Ordinal)) return lines;
            await Task.Delay(500);
        }
        return lines;
    }

    [Fact]
    public async Task Kcat_produces_json_and_reads_its_users_delivered_result_back()
    {
        Services.Tool("kcat");
        var user = User("kcat");
        var produced = await Exec(Path.Combine(Examples, "kcat", "produce.sh"), stack.Bootstrap, user, "+919876543210", "Signed Up");
        Assert.True(produced.Exit == 0, produced.Err);
        var results = await KcatResults(user);
        // One envelope per result, for this user; the value's string fields read as text, the delivery among them.
        Assert.Contains($"\"key\":\"{user}\"", results);
        Assert.Contains("delivered", results);
    }

    [Theory]
    [InlineData("json")]
    [InlineData("avro")]
    public async Task Kafkajs_produces_and_reads_its_users_delivered_result_through_the_registry(string format)
    {
        var node = Services.Tool("node");
        var dir = Services.NodeExamples;
        var user = User("kafkajs-" + format);
        var produced = await Exec(node, [Path.Combine(dir, "produce.js"), stack.Bootstrap, user, "+919876543211", "Signed Up", format, stack.Registry.Url, SchemasDir]);
        Assert.True(produced.Exit == 0, produced.Err);
        var read = await Exec(node, Path.Combine(dir, "results.js"), stack.Bootstrap, user, "delivered", stack.Registry.Url, "90");
        Assert.True(read.Exit == 0, read.Err);
        var results = read.Out.Trim().Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(results, r => r.GetProperty("status").GetString() == "delivered" && r.GetProperty("campaign_id").GetString() == "welcome");
        Assert.All(results, r => Assert.Equal(user, r.GetProperty("user_id").GetString()));
        if (format == "avro") Assert.Contains("sms.events-value", stack.Registry.Subjects());
    }

    [Theory]
    [InlineData("json")]
    [InlineData("avro")]
    public async Task The_confluent_kafka_example_produces_and_the_result_comes_back(string format)
    {
        // Built with the solution, in the configuration this test was built in (bin/<configuration>/net10.0/).
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var producer = Path.Combine(Examples, "csharp", "bin", configuration, "net10.0", "streams-example-producer.dll");
        var user = User("csharp-" + format);
        var produced = await Exec("dotnet", [producer, stack.Bootstrap, user, "+919876543212", "Signed Up", format, stack.Registry.Url, SchemasDir]);
        Assert.True(produced.Exit == 0, produced.Err);
        Assert.Contains("delivered", await KcatResults(user));
    }

    [Fact]
    public async Task The_compose_pipeline_dashboard_queries_metrics_the_pipeline_exports()
    {
        // Work first, so every instrument has a series: a delivery (results, provider calls, batches, lag) and a webhook call.
        var user = User("metrics");
        Assert.Equal(0, (await Exec(Path.Combine(Examples, "kcat", "produce.sh"), stack.Bootstrap, user, "+919876543213", "Signed Up")).Exit);
        Assert.Contains("delivered", await KcatResults(user));
        using var http = new HttpClient { BaseAddress = new Uri(stack.Http) };
        await http.PostAsync("/webhooks/sinch", new StringContent("{}"));
        var scrape = await http.GetStringAsync("/metrics");
        var exported = scrape.Split('\n').Where(l => l.StartsWith("streams_", StringComparison.Ordinal))
            .Select(l => l.Split('{', ' ')[0]).ToHashSet(StringComparer.Ordinal);
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root, "compose", "grafana", "dashboards", "pipeline.json")));
        var named = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("expr").GetString()!))
            .SelectMany(expr => System.Text.RegularExpressions.Regex.Matches(expr, @"streams_[a-z_]+").Select(m => m.Value)).Distinct().ToList();
        Assert.True(named.Count >= 5);
        Assert.All(named, metric => Assert.True(exported.Contains(metric), $"the dashboard queries {metric}, which /metrics does not have: {string.Join(", ", exported.Order())}"));
    }
}
