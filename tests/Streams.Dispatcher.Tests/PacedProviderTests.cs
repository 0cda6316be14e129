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
        // The counter store answers over the network: wait, boundedly, for the first send.
        Assert.True(SpinWait.SpinUntil(() => { lock (inner.SentAt) return inner.SentAt.Count == 1; }, TimeSpan.FromSeconds(5)));
        for (var step = 0; step < 3; step++)
        {
            time.Advance(TimeSpan.FromMilliseconds(500));
            // The woken send continues on the thread pool: wait for it, boundedly.
            Assert.True(SpinWait.SpinUntil(() => { lock (inner.SentAt) return inner.SentAt.Count == step + 2; }, TimeSpan.FromSeconds(5)),
                $"step {step}: sent at {string.Join(", ", inner.SentAt.Select(t => (t - Start).TotalMilliseconds))}");
        }
        await Task.WhenAll(sends);
        Assert.Equal([Start, Start.AddMilliseconds(500), Start.AddMilliseconds(1000), Start.AddMilliseconds(1500)], inner.SentAt);
    }
}
