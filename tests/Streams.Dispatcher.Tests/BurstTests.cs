using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Streams.Core;
using Streams.Dispatcher.Providers;
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

    [Fact]
    public async Task One_slow_call_holds_one_place_and_the_rest_of_the_batch_goes_past_it()
    {
        // Two calls in flight at most; r0's call hangs. Each other message takes the place its predecessor's call
        // left, and is recorded and reported while r0 is still out: a turn no longer waits for its slowest call.
        var slow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var provider = new HangingProvider("r000", slow.Task);
        var campaign = Build.Entry(Build.LiveYaml());
        var handler = new RequestHandler(TestCounters.Create(), new TwoAtATime(provider), FixedCampaigns.ForAnyId(campaign),
            new FakeTimeProvider(Now), NullLogger.Instance, "test");
        var requests = Enumerable.Range(0, 6).Select(i => Build.Request($"r{i:D3}", campaign.Record.Id, $"u{i:D3}", $"+9198765{i:D5}", Now)).ToList();
        var reported = new List<string>();
        var everyOtherReported = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var handling = handler.HandleBatchAsync(requests, CancellationToken.None, report: results =>
        {
            lock (reported)
            {
                reported.AddRange(results.Where(r => r.Status == ResultStatus.Sent).Select(r => r.RequestId));
                if (reported.Count == 5) everyOtherReported.TrySetResult();
            }
            return Task.CompletedTask;
        });
        await everyOtherReported.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(handling.IsCompleted);
        lock (reported) Assert.DoesNotContain("r000", reported);
        slow.SetResult();
        await handling.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(requests.Select(r => r.RequestId), reported.Order());
    }

    private sealed class TwoAtATime(ISmsProvider provider) : IProviderRegistry
    {
        public ISmsProvider? Get(string name) => provider;
        public int ConcurrencyFor(string name) => 2;
    }

    private sealed class HangingProvider(string slowId, Task release) : ISmsProvider
    {
        public string Name => "fake";

        public async Task<SendOutcome> SendAsync(OutboundSms sms, CancellationToken ct)
        {
            if (sms.Request.RequestId == slowId) await release.WaitAsync(ct);
            return new Accepted("m-" + sms.Request.RequestId);
        }
    }
}
