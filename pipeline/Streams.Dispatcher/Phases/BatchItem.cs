using Streams.Core;
using Streams.Dispatcher.Providers;

namespace Streams.Dispatcher.Phases;

/// <summary>One request on its way through a batch's phases: each phase reads what the ones before it set.</summary>
public sealed class BatchItem(SmsRequest request)
{
    public SmsRequest Request { get; } = request;

    /// <summary>Set by the decision when the request is to go to a provider.</summary>
    public Send? Send { get; set; }

    /// <summary>The one outcome the request ends with in this batch.</summary>
    public SmsResult? Result { get; set; }

    /// <summary>Set when the request waits in sms.scheduled (DND hours, another attempt's claim).</summary>
    public ScheduledRequest? Waiting { get; set; }

    /// <summary>Its result already went out with its provider call's, so it is not in the batch's output.</summary>
    public bool Reported { get; set; }

    /// <summary>Ended ambiguous and not yet marked so in the counters: the reason to mark it with for good.</summary>
    public string? Unmarked { get; set; }

    public bool Done => Result is not null || Waiting is not null;

    /// <summary>Goes to the counters only to learn whether a stop that ranks after them applies (it is never sent).</summary>
    public bool Probe => Send?.After is not null;

    public OutboundSms Outbound => new(Request, Send!.To, Send.From, Send.Text, Send.Info, Send.MessagingService);

    public static List<BatchItem> Of(IEnumerable<SmsRequest> batch) => [.. batch.DistinctBy(r => r.RequestId).Select(r => new BatchItem(r))];
}
