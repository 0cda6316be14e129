using Streams.Core;
using Streams.Dispatcher.Providers;
using Streams.Tests;
using Streams.Kafka;

namespace Streams.Pipeline.Tests;

public sealed class DispatcherRestartTests : IDisposable
{
    private readonly PipelineFixture _f = new();

    private const string Spec = """
        id: welcome
        name: Welcome
        type: live
        who: {trigger: {event: Signed Up}}
        what: {provider: sandbox, text: "Welcome!"}
        """;

    private sealed class SimulatedCrash() : Exception("simulated crash after send, before commit");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Dispatcher_restarted_after_sending_but_before_committing_does_not_send_again(bool redis)
    {
        using var kafka = new EmbeddedKafka();
        var options = new StreamsOptions { StateDir = _f.StateDir };
        options.Kafka.Bootstrap = kafka.Bootstrap;
        if (redis)
        {
            options.Redis = Services.Redis;
            options.RedisPrefix = $"test-{Guid.NewGuid():N}:";
        }
        EmbeddedKafka.EnsureTopics(kafka.Bootstrap, options.Topics);
        var client = new CampaignClient(kafka.Bootstrap, options.Topics, _f.Time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var applied = await client.ApplyAsync(Spec);
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, options.Topics.Profiles,
            ("u1", """{"user_id":"u1","ts":"2026-11-01T08:00:00Z","phone":"+919876543210"}"""));

        var appId = "restart-" + Guid.NewGuid().ToString("N")[..8];
        var group = "dispatcher-" + Guid.NewGuid().ToString("N")[..8];
        await using (var first = await PipelineHost.StartAsync(options, _f.Loggers, _f.Time, new PipelineHostOptions
        {
            ApplicationId = appId,
            DispatcherGroupId = group,
            AfterSend = _ => throw new SimulatedCrash(),
        }))
        {
            await first.WaitForCampaignAsync("welcome", applied.Record.Version, TimeSpan.FromSeconds(60));
            await first.WaitForProfileAsync("u1", TimeSpan.FromSeconds(60));
            await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, options.Topics.Events,
                ("u1", """{"user_id":"u1","name":"Signed Up","ts":"2026-12-01T09:00:00Z"}"""));
            var crash = await Assert.ThrowsAsync<SimulatedCrash>(() => first.Completion.WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Single(Outbox());
            Assert.Empty(PipelineFixture.Results(kafka.Bootstrap, options.Topics));
        }

        // The request was never committed: a new dispatcher in the same group gets it again.
        await using var second = await PipelineHost.StartAsync(options, _f.Loggers, _f.Time, new PipelineHostOptions
        {
            Roles = PipelineRoles.Dispatcher,
            DispatcherGroupId = group,
        });
        var results = await PipelineFixture.Eventually(() => Task.FromResult(PipelineFixture.Results(kafka.Bootstrap, options.Topics)), r => r.Count >= 1);
        var sent = Assert.Single(results);
        Assert.Equal(ResultStatus.Sent, sent.Status);
        Assert.Single(Outbox());
        Assert.Equal("sbx-" + sent.RequestId, sent.MessageId);

        _f.Time.Advance(TimeSpan.FromSeconds(1));
        results = await PipelineFixture.Eventually(() => Task.FromResult(PipelineFixture.Results(kafka.Bootstrap, options.Topics)), r => r.Count >= 2);
        Assert.Equal([ResultStatus.Sent, ResultStatus.Delivered], results.Select(r => r.Status));
        Assert.Single(Outbox());
    }

    private List<SandboxProvider.OutboxLine> Outbox() =>
        File.ReadAllLines(Path.Combine(_f.StateDir, "outbox.jsonl")).Select(l => SandboxProvider.TryRead(l)!).ToList();

    public void Dispose() => _f.Dispose();
}
