using Streams.Core;
using System.CommandLine;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streams.Analytics;
using Streams.Core.Campaigns;
using Streams.Pipeline;
using Streams.Kafka;

namespace Streams.Cli;

/// <summary>What every command needs: the configuration and where Kafka is (configured, else a running embedded pipeline).</summary>
public sealed class CliContext
{
    /// <summary>What the CLI prints as JSON, in the same shape the pipeline's HTTP side answers.</summary>
    public static readonly JsonSerializerOptions Json = Analytics.AnalyticsJson.Options;

    private CliContext(StreamsOptions options) => Options = options;

    public StreamsOptions Options { get; }
    public string EmbeddedFile => Path.Combine(Options.StateDir, "embedded.json");

    public static CliContext From(ParseResult parse) => new(StreamsOptions.Load(parse.GetValue(StreamsCli.Config)));

    public static ILoggerFactory Loggers(LogLevel level = LogLevel.Warning) =>
        LoggerFactory.Create(b => b.SetMinimumLevel(level).AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
            // Streamiz logs broker disconnects as errors while the embedded cluster shuts down; --verbose shows them.
            .AddFilter("Streamiz", level <= LogLevel.Information ? level : LogLevel.Critical));

    /// <summary>What `streams run` holding an embedded stack writes to state_dir/embedded.json, for commands and other `run`s to find it.</summary>
    public sealed record EmbeddedInfo(string Kafka, string Http, string? Redis = null, string? GroupProtocol = null);

    /// <summary>The embedded stack named by embedded.json, when its process still answers.</summary>
    public async Task<EmbeddedInfo?> LiveEmbeddedAsync()
    {
        if (Embedded is not { } info) return null;
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            return (await http.GetAsync(new Uri(new Uri(info.Http), "health"))).IsSuccessStatusCode ? info : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    public EmbeddedInfo? Embedded =>
        File.Exists(EmbeddedFile) ? JsonSerializer.Deserialize<EmbeddedInfo>(File.ReadAllText(EmbeddedFile), Json) : null;

    public string Bootstrap =>
        Options.Kafka.Bootstrap
        ?? Embedded?.Kafka
        ?? throw new CliException("no Kafka configured (kafka.bootstrap) and no embedded pipeline running: start `streams run --embedded` first");

    public CampaignClient Campaigns() =>
        new(Bootstrap, Options.Topics, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, Options);

    public RunClient Runs() => new(Bootstrap, Options.Topics, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    public SegmentClient Segments() =>
        new(Bootstrap, Options.Topics, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    /// <summary>Reads a spec file and parses it; a missing file is one clear line.</summary>
    public static string ReadFile(string path)
    {
        if (!File.Exists(path)) throw new CliException($"file not found: {path}");
        return File.ReadAllText(path);
    }

    public static void Validate(string path, string text)
    {
        var parsed = CampaignSpecParser.Parse(text);
        if (!parsed.IsValid) throw new CliException($"{path}: " + string.Join("; ", parsed.Problems));
    }

    public IAnalyticsStore? DirectAnalytics(bool readOnly)
    {
        if (Options.ClickHouse is { Url: { } url } ch) return ClickHouseStore.Create(url, ch.Database);
        var file = Path.Combine(Options.StateDir, "analytics.duckdb");
        return File.Exists(file) || !readOnly ? DuckDbStore.Open(file, readOnly) : null;
    }

    public static IProducer<string, byte[]> Producer(string bootstrap) =>
        KafkaClients.Producer(bootstrap, messageTimeout: TimeSpan.FromSeconds(15));

}

public sealed class CliException(string message) : Exception(message);

public static class CliErrors
{
    public static bool IsExpected(Exception e) => e is CliException or ConfigException or CampaignException or KafkaException
        or TimeoutException or IOException or ClickHouseException or HttpRequestException or UnauthorizedAccessException
        or StackExchange.Redis.RedisException or DuckDB.NET.Data.DuckDBException or Kafka.SchemaRegistryUnavailableException;

    public static string OneLine(Exception e) => OneLine(e.Message);

    public static string OneLine(string message) => string.Join(" ", message.Split(["\r", "\n"], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
