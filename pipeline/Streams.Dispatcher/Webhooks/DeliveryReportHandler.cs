using System.Text.Json;
using Streams.Core;
using Streams.Counters;

namespace Streams.Dispatcher.Webhooks;

/// <summary>What a webhook answers: a status, and for anything but 2xx the problem's title and detail.</summary>
public sealed record WebhookAnswer(int Status, string? Title = null, string? Detail = null)
{
    public static readonly WebhookAnswer Stored = new(204);
    public static WebhookAnswer Ignored(string why) => new(200, null, why);
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
    public async Task<WebhookAnswer> TwilioAsync(IReadOnlyDictionary<string, string> form, MessageNote? named)
    {
        if (!form.TryGetValue("MessageSid", out var sid) || !form.TryGetValue("MessageStatus", out var status))
            return new WebhookAnswer(400, "missing fields", "a Twilio status callback has MessageSid and MessageStatus");
        (string? mapped, string? reason) = status switch
        {
            "delivered" => (ResultStatus.Delivered, (string?)null),
            "undelivered" => (ResultStatus.Undelivered, $"twilio {form.GetValueOrDefault("ErrorCode")}"),
            "failed" => (ResultStatus.Failed, $"twilio {form.GetValueOrDefault("ErrorCode")}"),
            _ => ((string?)null, (string?)null),
        };
        if (mapped is null) return WebhookAnswer.Ignored($"status {status} is not final");
        if (form.GetValueOrDefault("ErrorCode") == "21610" && form.TryGetValue("To", out var to))
            await counters.SetOptOutAsync("phone:" + to, true, time.GetUtcNow());
        return await StoreAsync(TwilioProviderKind, sid, mapped, reason, named);
    }

    private const string TwilioProviderKind = Providers.TwilioProvider.TypeName;

    public async Task<WebhookAnswer> SinchAsync(JsonElement report)
    {
        if (report.ValueKind != JsonValueKind.Object
            || !report.TryGetProperty("batch_id", out var batch) || batch.ValueKind != JsonValueKind.String
            || !report.TryGetProperty("recipient", out var recipient) || recipient.ValueKind != JsonValueKind.String
            || !report.TryGetProperty("status", out var statusNode) || statusNode.ValueKind != JsonValueKind.String)
            return new WebhookAnswer(400, "missing fields", "a Sinch recipient delivery report has batch_id, recipient and status");
        if (report.TryGetProperty("type", out var type) && type.GetString() is { } t && t != "recipient_delivery_report_sms")
            return WebhookAnswer.Ignored($"type {t} is not a recipient delivery report");
        var status = statusNode.GetString()!;
        var code = report.TryGetProperty("code", out var c) ? c.ToString() : "";
        string? mapped = status switch
        {
            "Delivered" => ResultStatus.Delivered,
            "Expired" => ResultStatus.Undelivered,
            "Failed" or "Rejected" or "Aborted" or "Cancelled" or "Deleted" => ResultStatus.Failed,
            _ => null,
        };
        if (mapped is null) return WebhookAnswer.Ignored($"status {status} is not final");
        return await StoreAsync(Providers.SinchProvider.TypeName, $"{batch.GetString()}:{recipient.GetString()}", mapped,
            mapped == ResultStatus.Delivered ? null : $"sinch {code} {status}", null);
    }

    /// <summary>Kannel's dlr-url call: %d is 1 delivered, 2 not delivered to the phone, 16 not delivered to the SMSC; 4 and 8 are on the way.</summary>
    public async Task<WebhookAnswer> KannelAsync(MessageNote? named, string? type)
    {
        if (named is null || !int.TryParse(type, System.Globalization.CultureInfo.InvariantCulture, out var mask))
            return new WebhookAnswer(400, "missing fields", "a Kannel report names r (request id) and s (the %d report type)");
        string? status = mask switch
        {
            1 => ResultStatus.Delivered,
            2 => ResultStatus.Undelivered,
            16 => ResultStatus.Failed,
            _ => null,
        };
        if (status is null) return WebhookAnswer.Ignored($"report type {mask} is not final");
        return await StoreAsync(Providers.KannelProvider.TypeName, named.RequestId, status, status == ResultStatus.Delivered ? null : $"kannel report {mask}", named);
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
