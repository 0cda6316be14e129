using Microsoft.Extensions.Logging.Abstractions;
using Streams.Core;
using Streams.Kafka;
using Streams.Pipeline;
using Streams.Tests;
using Testcontainers.Kafka;
using Testcontainers.Redis;

namespace Streams.Containers.Tests;

/// <summary>
/// The pipeline against a real Kafka broker (KRaft, the image compose/ pins) and a real Redis with AOF, in containers
/// Testcontainers starts: what the mock cluster cannot prove (a broker's group coordinator, retention, real network).
/// Needs a Docker engine: run with <c>tests/run --containers</c>. Not run on the development machines (none there).
/// </summary>
[Trait("Category", "Containers")]
public sealed class RealBrokerTests : IAsyncLifetime
{
    private readonly KafkaContainer _kafka = new KafkaBuilder("apache/kafka:3.9.1").Build();
    private readonly RedisContainer _redis = new RedisBuilder("redis:7.4.2").WithCommand("--appendonly", "yes").Build();
    private readonly TempDir _state = new();

    public async Task InitializeAsync() => await Task.WhenAll(_kafka.StartAsync(), _redis.StartAsync());

    public async Task DisposeAsync()
    {
        await _kafka.DisposeAsync();
        await _redis.DisposeAsync();
        _state.Dispose();
    }

    [Fact]
    public async Task An_event_on_a_real_broker_ends_delivered_and_each_request_has_one_terminal_result()
    {
        var options = new StreamsOptions
        {
            Kafka = new StreamsOptions.KafkaOptions { Bootstrap = _kafka.GetBootstrapAddress().Replace("PLAINTEXT://", "", StringComparison.Ordinal), GroupProtocol = "classic" },
            Redis = _redis.GetConnectionString(),
            StateDir = _state.Path,
        };
        EmbeddedKafka.EnsureTopics(options.Kafka.Bootstrap, options.Topics);
        await using var host = await PipelineHost.StartAsync(options, TestLog.Factory, TimeProvider.System, new PipelineHostOptions
        {
            Roles = PipelineRoles.All & ~PipelineRoles.Attribution,
        });
        var campaigns = new CampaignClient(options.Kafka.Bootstrap, options.Topics, TimeProvider.System, NullLogger.Instance);
        await campaigns.ApplyAsync("""
            {"id": "welcome", "name": "Welcome", "type": "live", "who": {"trigger": {"event": "Signed Up"}},
             "what": {"provider": "sandbox", "from": "+14155550100", "text": "Welcome!"}}
            """);
        await host.WaitForCampaignAsync("welcome", 1, TimeSpan.FromSeconds(60));
        var now = DateTimeOffset.UtcNow.ToString("O");
        await KafkaTest.ProduceJsonAsync(options.Kafka.Bootstrap, options.Topics.Profiles,
            [.. Enumerable.Range(0, 20).Select(i => ($"u{i}", $$"""{"user_id":"u{{i}}","ts":"{{now}}","phone":"+9198765432{{i:00}}"}"""))]);
        await KafkaTest.ProduceJsonAsync(options.Kafka.Bootstrap, options.Topics.Events,
            [.. Enumerable.Range(0, 20).Select(i => ($"u{i}", $$"""{"user_id":"u{{i}}","name":"Signed Up","ts":"{{now}}"}"""))]);

        var waited = System.Diagnostics.Stopwatch.StartNew();
        List<SmsResult> results;
        do
        {
            await Task.Delay(500);
            results = KafkaTest.Results(options.Kafka.Bootstrap, options.Topics);
        }
        while (results.Count(r => r.Status == ResultStatus.Delivered) < 20 && waited.Elapsed < TimeSpan.FromSeconds(120));
        Assert.Equal(20, results.Where(r => r.Status == ResultStatus.Delivered).Select(r => r.RequestId).Distinct().Count());
        Assert.All(results.Where(r => ResultStatus.Final.Contains(r.Status)).GroupBy(r => r.RequestId), g => Assert.Single(g));
    }
}
