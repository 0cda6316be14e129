using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Streams.Core;
using Streams.Tests;

namespace Streams.Dispatcher.Tests;

/// <summary>A batch with more sends than a provider may have calls in flight.</summary>
public sealed class BurstTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_batch_larger_than_the_provider_concurrency_is_sent_whole()
    {
        // 200 sends against the default 64 calls in flight, and no pacer: turns used to ask the gate for a permit per
        // send at once, and a batch over 64 waited for ever (the embedded demo stalled on bursts).
        var provider = new RecordingProvider();
        var campaign = Build.Entry(Build.LiveYaml());
        var handler = new RequestHandler(TestCounters.Create(), new FixedProviders(provider, anyName: true), FixedCampaigns.ForAnyId(campaign),
            new FakeTimeProvider(Now), NullLogger.Instance, "test");
        var requests = Enumerable.Range(0, 200).Select(i => Build.Request($"r{i:D3}", campaign.Record.Id, $"u{i:D3}", $"+9198765{i:D5}", Now)).ToList();

        var output = await handler.HandleBatchAsync(requests, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(200, output.Results.Count(r => r.Status == ResultStatus.Sent));
        Assert.Equal(200, provider.Calls.Distinct().Count());
        Assert.True(RequestHandler.DefaultConcurrency < 200);
    }
}
