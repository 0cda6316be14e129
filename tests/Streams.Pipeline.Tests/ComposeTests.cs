using System.Net.Http;
using System.Text.Json;
using System.Text.RegularExpressions;
using Streams.Analytics;
using Streams.Tests;
using YamlDotNet.RepresentationModel;

namespace Streams.Pipeline.Tests;

/// <summary>
/// compose/ cannot be brought up here (no Docker engine): what can be checked without it is. The file parses, every
/// image is pinned, each pipeline service's configuration passes the pipeline's own validation with the environment
/// the service sets, Prometheus scrapes the services that serve metrics, and the ClickHouse dashboard's queries run on
/// the tables the pipeline makes. (That the pipeline dashboard's metrics are exported is checked against a live scrape
/// in RealClientTests.)
/// </summary>
public sealed partial class ComposeTests
{
    private static string Compose => Path.Combine(Repository.Root, "compose");

    private static YamlMappingNode Services()
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(Compose, "docker-compose.yml"))) yaml.Load(reader);
        var root = (YamlMappingNode)yaml.Documents.Single().RootNode;
        return (YamlMappingNode)root["services"];
    }

    /// <summary>A service's keys with YAML merge keys (&lt;&lt;: *anchor) applied, its own keys winning.</summary>
    private static Dictionary<string, YamlNode> Keys(YamlMappingNode service)
    {
        var keys = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        if (service.Children.TryGetValue(new YamlScalarNode("<<"), out var merged) && merged is YamlMappingNode anchor)
            foreach (var (k, v) in anchor.Children) keys[((YamlScalarNode)k).Value!] = v;
        foreach (var (k, v) in service.Children)
            if (((YamlScalarNode)k).Value != "<<") keys[((YamlScalarNode)k).Value!] = v;
        return keys;
    }

    private static IEnumerable<(string Name, Dictionary<string, YamlNode> Keys)> All() =>
        Services().Children.Select(s => (((YamlScalarNode)s.Key).Value!, Keys((YamlMappingNode)s.Value)));

    private static bool IsStreams(Dictionary<string, YamlNode> keys) =>
        keys.TryGetValue("image", out var image) && ((YamlScalarNode)image).Value!.StartsWith("streams:", StringComparison.Ordinal);

    private static List<string> Strings(YamlNode node) => ((YamlSequenceNode)node).Children.Select(c => ((YamlScalarNode)c).Value!).ToList();

    [GeneratedRegex(@"^[a-z0-9./-]+:v?\d+\.\d+\.\d+(\.\d+)?$|@sha256:[0-9a-f]{64}$")]
    private static partial Regex Pinned();

    [Fact]
    public void The_compose_file_has_the_whole_stack()
    {
        Assert.Equal(
            ["attribution", "clickhouse", "dispatcher", "grafana", "init", "kafka", "prometheus", "redis", "scheduler", "schema-registry", "sink", "topology"],
            All().Select(s => s.Name).Order(StringComparer.Ordinal));
        // Redis keeps its data across restarts (AOF); Kafka runs in KRaft mode (no ZooKeeper).
        Assert.Contains("--appendonly", Strings(All().Single(s => s.Name == "redis").Keys["command"]));
        var kafka = (YamlMappingNode)All().Single(s => s.Name == "kafka").Keys["environment"];
        Assert.Equal("broker,controller", ((YamlScalarNode)kafka["KAFKA_PROCESS_ROLES"]).Value);
    }

    [Fact]
    public void Every_image_is_pinned_to_an_exact_version()
    {
        foreach (var (name, keys) in All())
        {
            var image = ((YamlScalarNode)keys["image"]).Value!;
            if (IsStreams(keys)) Assert.Equal("streams:" + typeof(StreamsOptions).Assembly.GetName().Version!.ToString(3), image);
            else Assert.True(Pinned().IsMatch(image), $"{name}: image {image} is not pinned to an exact version");
        }
        foreach (var from in File.ReadAllLines(Path.Combine(Compose, "Dockerfile")).Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)))
            Assert.True(Pinned().IsMatch(from.Split(' ')[1]), $"Dockerfile: {from} is not pinned");
        var plugins = ((YamlScalarNode)((YamlMappingNode)All().Single(s => s.Name == "grafana").Keys["environment"])["GF_INSTALL_PLUGINS"]).Value!;
        Assert.Matches(@"^grafana-clickhouse-datasource \d+\.\d+\.\d+$", plugins);
    }

    [Fact]
    public void Every_pipeline_service_configuration_passes_the_pipelines_own_validation()
    {
        var services = All().Where(s => IsStreams(s.Keys)).ToList();
        Assert.Equal(6, services.Count);
        foreach (var (name, keys) in services)
        {
            // The environment the service sets: STREAMS__SECTION__KEY overrides the mounted file, as in the container.
            var overrides = new Dictionary<string, string?>();
            if (keys.TryGetValue("environment", out var env))
                foreach (var (k, v) in ((YamlMappingNode)env).Children)
                {
                    var key = ((YamlScalarNode)k).Value!;
                    if (key.StartsWith("STREAMS__", StringComparison.Ordinal)) overrides[key["STREAMS__".Length..].Replace("__", ":", StringComparison.Ordinal)] = ((YamlScalarNode)v).Value;
                }
            Assert.Contains("./streams.yaml:/etc/streams/streams.yaml:ro", Strings(keys["volumes"]));
            var options = StreamsOptions.Load(Path.Combine(Compose, "streams.yaml"), overrides);
            Assert.Equal("kafka:9092", options.Kafka.Bootstrap);
            if (name == "init")
            {
                Assert.Contains("streams schemas register", Strings(keys["entrypoint"])[^1]);
                continue;
            }
            Assert.Equal($"{name}-1", options.InstanceId);
            var command = Strings(keys["command"]);
            Assert.Equal("run", command[0]);
            var role = command[command.IndexOf("--roles") + 1];
            Assert.True(Enum.TryParse<PipelineRoles>(role, ignoreCase: true, out _), $"{name}: --roles {role}");
            Assert.Equal("http://0.0.0.0:8080", command[command.IndexOf("--http") + 1]);
        }
        // Every role is there once.
        Assert.Equal(["attribution", "dispatcher", "scheduler", "sink", "topology"], services.Select(s => s.Name).Where(n => n != "init").Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Prometheus_scrapes_every_pipeline_service_on_its_http_port()
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(Compose, "prometheus", "prometheus.yml"))) yaml.Load(reader);
        var job = (YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)yaml.Documents[0].RootNode)["scrape_configs"]).Children.Single();
        var targets = Strings(((YamlMappingNode)((YamlSequenceNode)job["static_configs"]).Children.Single())["targets"]);
        var roles = All().Where(s => IsStreams(s.Keys) && s.Name != "init").Select(s => $"{s.Name}:8080");
        Assert.Equal(roles.Order(StringComparer.Ordinal), targets.Order(StringComparer.Ordinal));
    }

    public static IEnumerable<(string Panel, string Datasource, string Query)> Queries(string dashboard)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Compose, "grafana", "dashboards", dashboard)));
        foreach (var panel in doc.RootElement.GetProperty("panels").EnumerateArray())
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
                yield return (panel.GetProperty("title").GetString()!, target.GetProperty("datasource").GetProperty("uid").GetString()!,
                    target.TryGetProperty("expr", out var expr) ? expr.GetString()! : target.GetProperty("rawSql").GetString()!);
    }

    [Fact]
    public void The_dashboards_name_provisioned_datasources()
    {
        var provisioned = File.ReadAllText(Path.Combine(Compose, "grafana", "provisioning", "datasources", "datasources.yaml"));
        foreach (var (panel, uid, _) in Queries("pipeline.json").Concat(Queries("campaigns.json")))
            Assert.True(provisioned.Contains($"uid: {uid}", StringComparison.Ordinal), $"{panel}: datasource {uid} is not provisioned");
    }

    [Fact]
    public async Task The_campaign_dashboards_queries_run_on_the_tables_the_pipeline_makes()
    {
        var database = "compose_" + Guid.NewGuid().ToString("N")[..10];
        await using (var store = ClickHouseStore.Create(Streams.Tests.Services.ClickHouse, database)) await store.MigrateAsync();
        using var http = new HttpClient { BaseAddress = new Uri(Streams.Tests.Services.ClickHouse) };
        var queries = Queries("campaigns.json").ToList();
        Assert.Equal(4, queries.Count);
        foreach (var (panel, _, sql) in queries)
        {
            // The Grafana ClickHouse plugin's $__timeFilter(column) is a range on that column.
            var runnable = Regex.Replace(sql, @"\$__timeFilter\((\w+)\)", "$1 >= toDateTime('2026-01-01 00:00:00') AND $1 < toDateTime('2027-01-01 00:00:00')")
                .Replace("streams.", database + ".", StringComparison.Ordinal);
            Assert.DoesNotContain("$__", runnable);
            var response = await http.PostAsync("/", new StringContent(runnable + " FORMAT JSON"));
            Assert.True(response.IsSuccessStatusCode, $"{panel}: {await response.Content.ReadAsStringAsync()}");
        }
        await http.PostAsync("/", new StringContent($"DROP DATABASE IF EXISTS {database}"));
    }
}
