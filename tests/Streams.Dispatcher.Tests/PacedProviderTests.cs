using Microsoft.Extensions.Time.Testing;
using Streams.Core;
using Streams.Counters;
using Streams.Dispatcher.Providers;

namespace Streams.Dispatcher.Tests;

public sealed class PacedProviderTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private sealed class Recorder(TimeProvider time) : ISmsProvider
    {
        public List<DateTimeOffset> SentAt { get; } = [];
        public string Name => "fake";
        public Task<SendOutcome> SendAsync(OutboundSms sms, CancellationToken ct)
        {
            lock (SentAt) SentAt.Add(time.GetUtcNow());
            return Task.FromResult<SendOutcome>(new Accepted("m"));
        }
        public Task<string?> FindAsync(string requestId, CancellationToken ct) => Task.FromResult<string?>(null);
    }

    private static OutboundSms Sms(int i) => new(
        new SmsRequest($"r{i}", "c", 1, "u", Start, new RequestContext(null, null, Props.Empty, null, null, null, Props.Empty)),
        "+919876543210", null, "hi", new SmsInfo("GSM-7", 2, 1));

    [Fact]
    public async Task Sends_wait_for_their_turn_at_exact_instants_of_the_rate()
    {
        var time = new FakeTimeProvider(Start);
        var inner = new Recorder(time);
        var paced = new PacedProvider(inner, Streams.Tests.TestCounters.Create(), time, perSecond: 2);
        var sends = Enumerable.Range(0, 4).Select(i => paced.SendAsync(Sms(i), CancellationToken.None)).ToList();
        // The counter store answers over the network: wait (without blocking a pool thread the sends need) for the first send.
        async Task<bool> Sent(int count)
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (waited.Elapsed < TimeSpan.FromSeconds(20))
            {
                lock (inner.SentAt) if (inner.SentAt.Count == count) return true;
                await Task.Delay(5);
            }
            return false;
        }
        Assert.True(await Sent(1));
        for (var step = 0; step < 3; step++)
        {
            time.Advance(TimeSpan.FromMilliseconds(500));
            Assert.True(await Sent(step + 2), $"step {step}: sent at {string.Join(", ", inner.SentAt.Select(t => (t - Start).TotalMilliseconds))}");
        }
        await Task.WhenAll(sends);
        Assert.Equal([Start, Start.AddMilliseconds(500), Start.AddMilliseconds(1000), Start.AddMilliseconds(1500)], inner.SentAt);
    }
}
