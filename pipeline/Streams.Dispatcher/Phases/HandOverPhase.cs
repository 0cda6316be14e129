using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Counters;
using Streams.Dispatcher.Providers;

namespace Streams.Dispatcher.Phases;

/// <summary>
/// Claim and take slots, as one step: the counters claim each request id and take its cap and limit places
/// atomically (or only probe them for a stop that ranks after the counters), and this phase judges each answer.
/// A request never handed over holds nothing; one handed over is the caller's to send and record.
/// </summary>
public sealed class HandOverPhase(ICounterStore counters, HandOverJudge judge, TimeProvider time, string owner)
{
    /// <summary>
    /// Hands over requests from <paramref name="look"/> in order until <paramref name="wanted"/> are won (probes take
    /// no turn); returns how many of <paramref name="look"/> were answered and adds the won ones to <paramref name="won"/>.
    /// </summary>
    public async Task<int> RunAsync(IReadOnlyList<BatchItem> look, int wanted, ISmsProvider provider, List<BatchItem> won, IDictionary<string, CampaignRecord> completed)
    {
        var answers = await counters.HandOverAsync(
            [.. look.Select(i => new HandOver(i.Request.RequestId, i.Request.UserId, i.Send!.Slots, i.Probe, i.Send.After?.Reason))],
            owner, wanted, time.GetUtcNow(), RequestHandler.KeepSendKeys);
        for (var n = 0; n < answers.Count; n++)
        {
            if (judge.Judge(look[n], answers[n], provider, completed)) won.Add(look[n]);
        }
        return answers.Count;
    }
}
