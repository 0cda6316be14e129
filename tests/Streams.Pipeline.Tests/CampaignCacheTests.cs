using Microsoft.Extensions.Logging.Abstractions;
using Streams.Core;
using Streams.Dispatcher;
using Streams.Tests;

namespace Streams.Pipeline.Tests;

/// <summary>The dispatcher's campaigns, read from sms.campaigns on the mock cluster.</summary>
public sealed class CampaignCacheTests : IDisposable
{
    private readonly PipelineFixture _f = new();

    [Fact]
    public async Task A_request_for_a_campaign_applied_a_moment_ago_is_judged_once_the_cache_has_it()
    {
        // The topology and the dispatcher read sms.campaigns apart: the topology may see a campaign and request a
        // send before the dispatcher's cache has read it. That request used to end campaign_inactive.
        var options = new StreamsOptions { StateDir = _f.StateDir };
        using var kafka = PipelineFixture.Kafka(options);
        await using var cache = new CampaignCache(kafka.Bootstrap, options.Topics, NullLogger.Instance);
        await cache.CaughtUp.WaitAsync(TimeSpan.FromSeconds(30));
        var provider = new RecordingProvider();
        var handler = new RequestHandler(TestCounters.Create(), new FixedProviders(provider, anyName: true), cache, _f.Time, NullLogger.Instance, "test");

        var applied = await _f.Campaigns(options).ApplyAsync(Build.LiveYaml());
        var output = await handler.HandleBatchAsync([Build.Request("r1", applied.Record.Id, at: PipelineFixture.Start) with { CampaignVersion = applied.Record.Version }],
            CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((ResultStatus.Sent, null), (Assert.Single(output.Results).Status, output.Results[0].Reason));
        Assert.Equal(["r1"], provider.Calls);
    }

    [Fact]
    public async Task A_request_for_a_campaign_that_does_not_exist_ends_campaign_inactive_after_the_cache_has_read_everything()
    {
        var options = new StreamsOptions { StateDir = _f.StateDir };
        using var kafka = PipelineFixture.Kafka(options);
        await _f.Campaigns(options).ApplyAsync(Build.LiveYaml());
        await using var cache = new CampaignCache(kafka.Bootstrap, options.Topics, NullLogger.Instance);
        await cache.CaughtUp.WaitAsync(TimeSpan.FromSeconds(30));
        var handler = new RequestHandler(TestCounters.Create(), new FixedProviders(new RecordingProvider(), anyName: true), cache, _f.Time, NullLogger.Instance, "test");

        var output = await handler.HandleBatchAsync([Build.Request("r1", "nope", at: PipelineFixture.Start)], CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((ResultStatus.Suppressed, Reasons.CampaignInactive), (Assert.Single(output.Results).Status, output.Results[0].Reason));
    }

    public void Dispose() => _f.Dispose();
}
