using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Streams.Core;
using Streams.Kafka;
using Streams.Tests;

namespace Streams.Pipeline.Tests;

/// <summary>Helpers shared by the pipeline tests: a temp state dir, a virtual clock, producing JSON, reading topics.</summary>
public sealed class PipelineFixture : IDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    public string StateDir { get; } = Path.Combine(Path.GetTempPath(), "streams-tests", Guid.NewGuid().ToString("N"));
    public FakeTimeProvider Time { get; } = new(Start);
    public ILoggerFactory Loggers { get; } = TestLog.Factory;

    /// <summary>A mock cluster for one test, with the topics created and the options pointed at it.</summary>
    public static EmbeddedKafka Kafka(StreamsOptions options)
    {
        var kafka = new EmbeddedKafka();
        options.Kafka.Bootstrap = kafka.Bootstrap;
        EmbeddedKafka.EnsureTopics(kafka.Bootstrap, options.Topics);
        return kafka;
    }

    public CampaignClient Campaigns(StreamsOptions options) =>
        new(options.Kafka.Bootstrap!, options.Topics, Time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    /// <summary>
    /// Starts a pipeline with its own Streamiz application id and waits until it sees these campaigns and users. Without
    /// attribution (a second Streamiz application per host) unless asked: these tests run side by side on two cores, and
    /// the ones about conversions start it.
    /// </summary>
    public async Task<PipelineHost> StartAsync(StreamsOptions options, string name, string[] campaigns, string[] users, bool attribution = false)
    {
        for (var attempt = 1; ; attempt++)
        {
            var host = await PipelineHost.StartAsync(options, Loggers, Time, new PipelineHostOptions
            {
                ApplicationId = $"{name}-{Guid.NewGuid().ToString("N")[..8]}",
                Roles = attribution ? PipelineRoles.All : PipelineRoles.All & ~PipelineRoles.Attribution,
            });
            try
            {
                foreach (var id in campaigns) await host.WaitForCampaignAsync(id, 1, TimeSpan.FromSeconds(60));
                foreach (var user in users) await host.WaitForProfileAsync(user, TimeSpan.FromSeconds(60));
                return host;
            }
            catch (TimeoutException e) when (attempt == 1 && e.Message.Contains("REBALANCING", StringComparison.Ordinal) && !e.Message.Contains("RUNNING", StringComparison.Ordinal))
            {
                // Seen about once in a few full runs, late in the run: the topology's first group join on the mock
                // cluster never completes (the application stays REBALANCING; librdkafka holds a JoinGroup for the
                // rebalance timeout). Not understood yet; a second application (a new group) is started once, so the
                // test judges the pipeline and not that join. A topology that never starts still fails.
                await host.DisposeAsync();
            }
            catch
            {
                await host.DisposeAsync();
                throw;
            }
        }
    }

    public static Task ProduceJsonAsync(string bootstrap, string topic, params (string Key, string Json)[] records) =>
        KafkaTest.ProduceJsonAsync(bootstrap, topic, records);

    /// <summary>Every record of a topic from the beginning up to its current end.</summary>
    public static List<ConsumeResult<string, byte[]>> ReadAll(string bootstrap, string topic) => KafkaTest.ReadAll(bootstrap, topic);

    /// <summary>What became of each request: every result but the "sending" note each hand-over writes first.</summary>
    public static List<SmsResult> Results(string bootstrap, Topics topics) => KafkaTest.Results(bootstrap, topics);

    /// <summary>Waits for a condition the pipeline makes true asynchronously; fails with the last observed state.</summary>
    public static Task<T> Eventually<T>(Func<Task<T>> observe, Func<T, bool> done, TimeSpan? timeout = null) =>
        Streams.Tests.Eventually.Async(observe, done, timeout);

    public void Dispose()
    {
        try { Directory.Delete(StateDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
