using System.Text.Json;
using Streams.Core;
using Streams.Counters;
using Streams.Dispatcher.Providers;

namespace Streams.Dispatcher.Webhooks;

/// <summary>What a webhook answers: a status, and for anything but 2xx the problem's title and detail.</summary>
public sealed record WebhookAnswer(int Status, string? Title = null, string? Detail = null)
{
    public static readonly WebhookAnswer Stored = new(204);
    public static WebhookAnswer Ignored(string why) => new(200, null, why);
}

/// <summary>A provider's final delivery report, parsed by its kind: the message it is about and what became of it.</summary>
public sealed record DeliveryReport(string Provider, string MessageId, string Status, string? Reason, string? OptedOutPhone = null);

/// <summary>A parsed report, or the answer a report that is not one (malformed, not final) gets.</summary>
public readonly record struct ParsedReport(DeliveryReport? Report, WebhookAnswer? Answer)
{
    public static implicit operator ParsedReport(DeliveryReport report) => new(report, null);

    public static implicit operator ParsedReport(WebhookAnswer answer) => new(null, answer);
}

/// <summary>
/// Provider delivery reports to sms.results. A final status becomes one SmsResult for the request behind the
/// provider's message id (found in the counter store, where the dispatcher noted it at send time); intermediate
/// statuses are acknowledged and dropped. A report is answered 2xx only once Kafka has the result, and a repeat of
/// a report already stored is answered 2xx without a second result. A report whose message is not known (yet) gets
/// 503, so the provider retries it later.
/// </summary>
public sealed class DeliveryReportHandler(ICounterStore counters, IResultSink results, TimeProvider time)
{
    /// <param name="named">What the callback URL itself names (request, campaign, user, provider): Twilio and Kannel carry it,
    /// so their reports need no note and cannot arrive "too early"; the note, when there, adds segments and encoding.</param>
    public Task<WebhookAnswer> TwilioAsync(IReadOnlyDictionary<string, string> form, MessageNote? named) => HandleAsync(TwilioKind.Report(form), named);

    public Task<WebhookAnswer> SinchAsync(JsonElement report) => HandleAsync(SinchKind.Report(report), null);

    public Task<WebhookAnswer> KannelAsync(MessageNote? named, string? type) => HandleAsync(KannelKind.Report(named, type), named);

    private async Task<WebhookAnswer> HandleAsync(ParsedReport parsed, MessageNote? named)
    {
        if (parsed.Answer is { } answer) return answer;
        var report = parsed.Report!;
        // The provider says the number opted out (Twilio 21610): the next campaign must not try it.
        if (report.OptedOutPhone is { } phone) await counters.SetOptOutAsync("phone:" + phone, true, time.GetUtcNow());
        return await StoreAsync(report.Provider, report.MessageId, report.Status, report.Reason, named);
    }

    private async Task<WebhookAnswer> StoreAsync(string kind, string messageId, string status, string? reason, MessageNote? named)
    {
        var noted = MessageNote.Parse(await counters.RecallAsync(MessageNote.Key(kind, messageId)));
        if (noted is not null && named is not null && noted.RequestId != named.RequestId)
            return new WebhookAnswer(409, "conflicting report", $"{kind} message {messageId} belongs to another request");
        if ((noted ?? named) is not { } note)
            return new WebhookAnswer(503, "unknown message", $"no request is known for {kind} message {messageId} yet; retry later");
        var result = new SmsResult(note.RequestId, messageId, note.CampaignId, note.UserId, status, reason, note.Provider,
            note.Segments, note.Encoding, time.GetUtcNow());
        return await results.StoreOnceAsync(result)
            ? WebhookAnswer.Stored
            : WebhookAnswer.Ignored("already stored");
    }
}

/// <summary>Where delivery results go (sms.results): true when stored now, false when it was stored before; throws when it could not be.</summary>
public interface IResultSink
{
    Task<bool> StoreOnceAsync(SmsResult result);
}
