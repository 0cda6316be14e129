using System.Text.Json;
using Streams.Core;
using Streams.Counters;

namespace Streams.Dispatcher;

/// <summary>
/// A sent request waiting for its delivery report, as the counter store keeps it: due at the sandbox's delivery
/// time (then reported delivered) or at the provider's report timeout (then reported expired).
/// </summary>
public sealed record PendingReport(string Kind, string MessageId, string CampaignId, string UserId, string Provider, int Segments, string Encoding,
    IReadOnlyList<string>? Holds = null)
{
    public const string Deliver = "deliver";
    public const string Expire = "expire";
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string Info(string kind, string messageId, SmsRequest request, string provider, SmsInfo info, IReadOnlyList<string>? holds = null) =>
        JsonSerializer.Serialize(new PendingReport(kind, messageId, request.CampaignId, request.UserId, provider, info.Segments, info.Encoding, holds), Json);

    public static PendingReport? Parse(string info)
    {
        try { return JsonSerializer.Deserialize<PendingReport>(info, Json); }
        catch (JsonException) { return null; }
    }

    /// <summary>The result this pending report ends in when it comes due; it names the places the send holds, like the sent result.</summary>
    public SmsResult ResultFor(string requestId, DateTimeOffset now) => Kind == Deliver
        ? new SmsResult(requestId, MessageId, CampaignId, UserId, ResultStatus.Delivered, null, Provider, Segments, Encoding, now, Holds)
        : new SmsResult(requestId, MessageId, CampaignId, UserId, ResultStatus.Expired, Reasons.NoDeliveryReport, Provider, Segments, Encoding, now, Holds);
}

/// <summary>
/// The cap and limit places a sent request holds, written on its <c>sent</c> result ("u|key|keep-seconds" for a
/// user's place, "m|key|keep-seconds" for a message's), so the counters can be rebuilt from sms.results.
/// </summary>
public static class Holds
{
    public static IReadOnlyList<string> Of(IReadOnlyList<Slot> slots) =>
        [.. slots.Select(s => $"{(s.Kind == CounterKind.Users ? "u" : "m")}|{s.Key}|{(long)s.Keep.TotalSeconds}")];
}
