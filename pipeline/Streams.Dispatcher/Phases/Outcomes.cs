using System.Globalization;
using Microsoft.Extensions.Logging;
using Streams.Core;

namespace Streams.Dispatcher.Phases;

/// <summary>Makes the results requests end with, stamped by the clock.</summary>
public sealed class Outcomes(TimeProvider time, ILogger logger)
{
    public SmsResult Of(SmsRequest r, string status, string? reason, string? messageId, string? provider, SmsInfo? info) =>
        new(r.RequestId, messageId, r.CampaignId, r.UserId, status, reason, provider, info?.Segments ?? 0, info?.Encoding, time.GetUtcNow());

    public SmsResult Suppressed(SmsRequest request, string reason, string detail)
    {
        logger.LogDebug("request {RequestId} suppressed: {Reason} ({Detail})", request.RequestId, reason, detail);
        return Of(request, ResultStatus.Suppressed, reason, null, null, null);
    }

    /// <summary>A redelivery of a request that was sent: it is reported sent again, with what its send recorded.</summary>
    public SmsResult SentBefore(SmsRequest request, string detail)
    {
        var previous = SentDetail.Parse(detail);
        logger.LogInformation("request {RequestId} was already sent as {MessageId}; re-reporting it as sent", request.RequestId, previous.MessageId);
        // The original send's time, when recorded: the re-reported row is the same row, so no count by time sees it twice.
        var again = Of(request, ResultStatus.Sent, null, previous.MessageId, previous.Provider, previous.Info);
        return previous.At is { } at ? again with { Ts = at } : again;
    }

    /// <summary>The provider may or may not have it: the request ends ambiguous, keeps its places, and is to be marked so for good.</summary>
    public void Ambiguous(BatchItem item, string provider, string reason)
    {
        item.Result = Of(item.Request, ResultStatus.Ambiguous, reason, null, provider, item.Send!.Info) with { Holds = Holds.Of(item.Send.Slots) };
        item.Unmarked = reason;
    }
}

/// <summary>What the send key keeps once a message is out: enough to re-emit its result after a crash.</summary>
public sealed record SentDetail(string MessageId, SmsInfo Info, string? Provider = null, DateTimeOffset? At = null)
{
    public override string ToString() =>
        $"{MessageId}|{Info.Segments.ToString(CultureInfo.InvariantCulture)}|{Info.Encoding}|{Provider}|{At?.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}";

    public static SentDetail Parse(string? text)
    {
        var parts = (text ?? "").Split('|');
        return new SentDetail(parts[0], new SmsInfo(parts.Length > 2 ? parts[2] : "", 0,
            parts.Length > 1 && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var s) ? s : 0),
            parts.Length > 3 && parts[3].Length > 0 ? parts[3] : null,
            parts.Length > 4 && long.TryParse(parts[4], CultureInfo.InvariantCulture, out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null);
    }
}
