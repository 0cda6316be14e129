using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Counters;
using Streams.Dispatcher.Providers;

namespace Streams.Dispatcher.Phases;

/// <summary>
/// Writes what a provider call settled (<see cref="Settler"/>) to the counters, retrying while Redis is away until
/// the shutdown deadline: the sends happened, so their records must land.
/// </summary>
public sealed class RecordPhase(ICounterStore counters, TimeProvider time, ILogger logger, string owner)
{
    /// <summary>The sends happened: their records must land, however long Redis takes to come back (until the deadline).</summary>
    public async Task WriteAsync(Settler.Settlement settlement, IReadOnlyList<BatchItem> items, CancellationToken abandon)
    {
        var now = time.GetUtcNow();
        foreach (var subject in settlement.OptedOut)
            await Persistently(() => counters.SetOptOutAsync(subject, true, now), "remember an opt-out", abandon);
        await Persistently(() => counters.RecordSentAsync(settlement.Sent, RequestHandler.KeepSendKeys), $"record {settlement.Sent.Count} sends", abandon);
        await Persistently(() => counters.ReleaseAsync(settlement.GivenBack, owner), $"give back {settlement.GivenBack.Count} refused requests", abandon);
        await MarkAmbiguousAsync(items, abandon);
    }

    /// <summary>Marks for good the requests among <paramref name="items"/> that ended ambiguous, so no attempt sends them again.</summary>
    public async Task MarkAmbiguousAsync(IEnumerable<BatchItem> items, CancellationToken abandon)
    {
        var marks = items.Where(i => i.Unmarked is not null).ToList();
        if (marks.Count == 0) return;
        await Persistently(() => counters.RecordAmbiguousAsync([.. marks.Select(i => (i.Request.RequestId, i.Unmarked!))], RequestHandler.KeepSendKeys),
            $"mark {marks.Count} requests ambiguous", abandon);
        foreach (var item in marks) item.Unmarked = null;
    }

    private async Task Persistently(Func<Task> write, string what, CancellationToken abandon)
    {
        var wait = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                await write();
                return;
            }
            catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException && !abandon.IsCancellationRequested)
            {
                logger.LogWarning("Redis unavailable ({Error}); retrying to {What} in {Wait}", e.Message, what, wait);
                try { await Task.Delay(wait, abandon); }
                catch (OperationCanceledException) { }
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
            catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException)
            {
                logger.LogError("Redis unavailable at the shutdown deadline: could not {What}; the results still go to Kafka", what);
                return;
            }
        }
    }
}
