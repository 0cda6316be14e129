using System.Text.RegularExpressions;
using Streams.Core;
using Streams.Dispatcher.Webhooks;

namespace Streams.Dispatcher.Providers;

public sealed partial class TwilioKind : ProviderKind
{
    public override string TypeName => TwilioProvider.TypeName;

    public override IReadOnlyList<string> Keys =>
        ["base_url", "account_sid", "token_env", "token_file", "from", "messaging_service_sid", "callback_url"];

    public override string? Problem(string name, ProviderOptions o, IReadOnlyDictionary<string, ProviderOptions> all)
    {
        if (o.AccountSid is null) return $"providers.{name}: twilio needs account_sid";
        if (!HasSecret(o)) return $"providers.{name}: set token_env or token_file";
        if (o.MessagingServiceSid is { } sid && !MessagingServiceSid().IsMatch(sid))
            return $"providers.{name}.messaging_service_sid: must look like MG followed by 32 hex digits";
        return null;
    }

    // Twilio needs From or a Messaging Service (which picks the sender itself).
    public override bool NeedsSender(ProviderOptions o) => o.MessagingServiceSid is null;

    public override ISmsProvider Create(string name, ProviderOptions o, ProviderContext context) => new TwilioProvider(name, new TwilioSettings
    {
        BaseUrl = o.BaseUrl ?? "https://api.twilio.com",
        AccountSid = o.AccountSid!,
        AuthToken = o.Secret(name),
        From = o.From,
        MessagingServiceSid = o.MessagingServiceSid,
        StatusCallback = o.CallbackUrl,
    }, context.Http, HttpResilience.Build(Resilience(o), context.Time));

    /// <summary>An inbound message from Twilio's webhook form; null when From, Body or MessageSid is missing.</summary>
    public static InboundMessage? Inbound(IReadOnlyDictionary<string, string> form, DateTimeOffset now) =>
        form.TryGetValue("From", out var from) && form.TryGetValue("Body", out var text) && form.TryGetValue("MessageSid", out var sid)
            ? new InboundMessage(sid, TwilioProvider.TypeName, from, form.GetValueOrDefault("To"), text, now)
            : null;

    /// <summary>A status callback: delivered, undelivered and failed are final; the rest are acknowledged and dropped.</summary>
    public static ParsedReport Report(IReadOnlyDictionary<string, string> form)
    {
        if (!form.TryGetValue("MessageSid", out var sid) || !form.TryGetValue("MessageStatus", out var status))
            return new WebhookAnswer(400, "missing fields", "a Twilio status callback has MessageSid and MessageStatus");
        var code = form.GetValueOrDefault("ErrorCode");
        (string? mapped, string? reason) = status switch
        {
            "delivered" => (ResultStatus.Delivered, (string?)null),
            "undelivered" => (ResultStatus.Undelivered, $"twilio {code}"),
            "failed" => (ResultStatus.Failed, $"twilio {code}"),
            _ => ((string?)null, (string?)null),
        };
        if (mapped is null) return WebhookAnswer.Ignored($"status {status} is not final");
        // 21610: the recipient replied STOP to this sender.
        return new DeliveryReport(TwilioProvider.TypeName, sid, mapped, reason, code == "21610" ? form.GetValueOrDefault("To") : null);
    }

    [GeneratedRegex("^MG[0-9a-f]{32}$")]
    private static partial Regex MessagingServiceSid();
}
