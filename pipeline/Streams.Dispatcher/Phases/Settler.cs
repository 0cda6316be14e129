using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Counters;
using Streams.Dispatcher.Providers;

namespace Streams.Dispatcher.Phases;

/// <summary>
/// Turns a provider's answers into outcomes and says what is to be recorded; writes nothing. Accepted: a send
/// record (the claim becomes "sent", the message note and the report due time are kept). Refused: nothing reached
/// the handset, so the places go back and count for nobody, while the claim keeps the outcome (a redelivery reports
/// it again instead of trying a second time). Unclear: ambiguous, the places kept, to be marked so for good.
/// </summary>
public sealed class Settler(Outcomes outcomes, TimeProvider time, ILogger logger)
{
    /// <summary>What a provider call leaves to write.</summary>
    public sealed record Settlement(IReadOnlyList<SentRecord> Sent, IReadOnlyList<Release> GivenBack, IReadOnlyList<string> OptedOut);

    /// <summary>Sets each won request's result from its answer.</summary>
    /// <param name="reportTimeout">How long a sent message waits for its delivery report before it ends expired.</param>
    public Settlement Settle(ISmsProvider provider, IReadOnlyList<BatchItem> won, IReadOnlyList<SendOutcome> answers, TimeSpan reportTimeout)
    {
        var now = time.GetUtcNow();
        var sent = new List<SentRecord>();
        var givenBack = new List<Release>();
        var optedOut = new List<string>();
        for (var n = 0; n < won.Count; n++)
        {
            var item = won[n];
            var (request, send) = (item.Request, item.Send!);
            switch (answers[n])
            {
                case Accepted accepted:
                    var via = accepted.Via ?? provider.Name;
                    var delivers = provider.DeliversAfter;
                    item.Result = outcomes.Of(request, ResultStatus.Sent, null, accepted.MessageId, via, send.Info) with { Holds = Holds.Of(send.Slots) };
                    sent.Add(new SentRecord(request.RequestId, request.CampaignId,
                        new SentDetail(accepted.MessageId, send.Info, via, item.Result.Ts).ToString(),
                        MessageNote.Key(accepted.ViaKind ?? provider.Kind, accepted.MessageId),
                        new MessageNote(request.RequestId, request.CampaignId, request.UserId, via, send.Info.Segments, send.Info.Encoding).ToString(),
                        now + (delivers ?? reportTimeout),
                        PendingReport.Info(delivers is null ? PendingReport.Expire : PendingReport.Deliver, accepted.MessageId, request, via, send.Info, Holds.Of(send.Slots)),
                        request.UserId, send.Slots));
                    logger.LogDebug("sent {RequestId} to {To} via {Provider}", request.RequestId, PhoneMask.Mask(send.To), via);
                    break;
                case Refused { MayHaveBeenTaken: true } unsure:
                    outcomes.Ambiguous(item, provider.Name, unsure.Reason);
                    break;
                case Refused refused:
                    if (refused.Reason is Reasons.OptedOut or Reasons.InvalidPhone)
                    {
                        // The provider knows better (e.g. Twilio 21610: the number sent STOP to it): remember it.
                        if (refused.Reason == Reasons.OptedOut) optedOut.Add("phone:" + send.To);
                        item.Result = outcomes.Suppressed(request, refused.Reason, $"{provider.Name} refused the number");
                    }
                    else
                    {
                        item.Result = outcomes.Of(request, ResultStatus.Failed, refused.Reason, null, provider.Name, send.Info);
                    }
                    givenBack.Add(new Release(request.RequestId, request.UserId, send.Slots, $"{item.Result.Status}|{item.Result.Reason}"));
                    break;
                default:
                    throw new InvalidOperationException($"unknown send outcome {answers[n]}");
            }
        }
        return new Settlement(sent, givenBack, optedOut);
    }

}
