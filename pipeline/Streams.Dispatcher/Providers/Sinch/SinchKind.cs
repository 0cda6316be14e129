using System.Text.Json;
using Streams.Core;
using Streams.Dispatcher.Webhooks;

namespace Streams.Dispatcher.Providers;

public sealed class SinchKind : ProviderKind
{
    public override string TypeName => SinchProvider.TypeName;

    public override IReadOnlyList<string> Keys =>
        ["base_url", "region", "service_plan_id", "token_env", "token_file", "webhook_secret_env", "from", "callback_url"];

    public override string? Problem(string name, ProviderOptions o, IReadOnlyDictionary<string, ProviderOptions> all)
    {
        if (o.ServicePlanId is null) return $"providers.{name}: sinch needs service_plan_id";
        if (o.Region is { } region && region is not ("us" or "eu" or "au" or "br" or "ca"))
            return $"providers.{name}.region: '{region}' is not one of us, eu, au, br, ca";
        return HasSecret(o) ? null : $"providers.{name}: set token_env or token_file";
    }

    // Sinch refuses a batch without an originator (code 410).
    public override bool NeedsSender(ProviderOptions o) => true;

    public override ISmsProvider Create(string name, ProviderOptions o, ProviderContext context) => new SinchProvider(name, new SinchSettings
    {
        BaseUrl = o.BaseUrl ?? $"https://{o.Region ?? "us"}.sms.api.sinch.com",
        ServicePlanId = o.ServicePlanId!,
        Token = o.Secret(name),
        From = o.From,
        CallbackUrl = o.CallbackUrl,
    }, context.Http, HttpResilience.Build(Resilience(o), context.Time));

    /// <summary>An inbound message from Sinch's webhook JSON (its numbers come without '+'); null when id, from or body is missing.</summary>
    public static InboundMessage? Inbound(JsonElement body, DateTimeOffset now) =>
        Str(body, "from") is { } from && Str(body, "body") is { } text && Str(body, "id") is { } id
            ? new InboundMessage(id, SinchProvider.TypeName, from.StartsWith('+') ? from : "+" + from, Str(body, "to"), text, now)
            : null;

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>A recipient delivery report; Delivered, Expired and the failures are final, the rest acknowledged and dropped.</summary>
    public static ParsedReport Report(JsonElement report)
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
        return new DeliveryReport(SinchProvider.TypeName, $"{batch.GetString()}:{recipient.GetString()}", mapped,
            mapped == ResultStatus.Delivered ? null : $"sinch {code} {status}");
    }

    /// <summary>The webhook signature secrets of every Sinch provider that has one.</summary>
    public static IReadOnlyList<string> WebhookSecrets(IReadOnlyDictionary<string, ProviderOptions> all) => WebhookSecrets(SinchProvider.TypeName, all);
}
