using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Polly;
using Streams.Core;

namespace Streams.Dispatcher.Providers;

public sealed record TwilioSettings
{
    public string BaseUrl { get; init; } = "https://api.twilio.com";
    public required string AccountSid { get; init; }
    public required string AuthToken { get; init; }
    public string? From { get; init; }
    public string? MessagingServiceSid { get; init; }

    /// <summary>Our /webhooks/twilio as Twilio will call it; absent means no status callbacks.</summary>
    public string? StatusCallback { get; init; }
}

/// <summary>
/// Twilio Programmable Messaging: one form POST per message (Basic auth AccountSid:AuthToken), From or
/// MessagingServiceSid (the campaign's what.from or what.messaging_service, else the provider's), StatusCallback carrying our request id, campaign and user in its query so a callback
/// needs no lookup. Error codes: 21610 (the number sent STOP to Twilio) → opted_out, and the number is marked
/// opted out; 21211 / 21614 → invalid_phone; 429 / 20429 are retried by the resilience pipeline.
/// Twilio cannot be asked for a message by our reference, so a send interrupted before its record is not repeated.
/// </summary>
public sealed class TwilioProvider(string name, TwilioSettings settings, HttpClient http, ResiliencePipeline<HttpResponseMessage> resilience) : ISmsProvider
{
    public const string TypeName = "twilio";

    public string Name => name;

    public string Kind => TypeName;

    public static string CallbackUrl(string baseUrl, SmsRequest r, string provider) =>
        $"{baseUrl}{(baseUrl.Contains('?') ? '&' : '?')}r={Uri.EscapeDataString(r.RequestId)}&c={Uri.EscapeDataString(r.CampaignId)}&u={Uri.EscapeDataString(r.UserId)}&p={Uri.EscapeDataString(provider)}";

    public async Task<SendOutcome> SendAsync(OutboundSms sms, CancellationToken ct)
    {
        var fields = new List<KeyValuePair<string, string>> { new("To", sms.To), new("Body", sms.Text) };
        // The campaign's own sender (a number, or a Messaging Service) wins over the provider's default.
        if (sms.From is { } own) fields.Add(new("From", own));
        else if (sms.MessagingService is { } campaignService) fields.Add(new("MessagingServiceSid", campaignService));
        else if (settings.From is { } from) fields.Add(new("From", from));
        else if (settings.MessagingServiceSid is { } service) fields.Add(new("MessagingServiceSid", service));
        else return new Refused($"{Reasons.ProviderError}: {name} has neither a from number nor a messaging service", Final: true);
        if (settings.StatusCallback is { } callback) fields.Add(new("StatusCallback", CallbackUrl(callback, sms.Request, name)));
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.AccountSid}:{settings.AuthToken}"));
        var url = $"{settings.BaseUrl.TrimEnd('/')}/2010-04-01/Accounts/{settings.AccountSid}/Messages.json";

        var (response, refused) = await HttpResilience.SendAsync(resilience, http, () => new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new FormUrlEncodedContent(fields),
            Headers = { Authorization = new AuthenticationHeaderValue("Basic", auth) },
        }, name, ct);
        if (refused is not null) return refused;
        using (response)
        {
            var body = await response!.Content.ReadAsStringAsync(ct);
            var answer = ProviderAnswer.Json(body);
            if (response.IsSuccessStatusCode && ProviderAnswer.Field(answer, "sid") is { Length: > 0 } id)
                return new Accepted(id);
            var code = int.TryParse(ProviderAnswer.Field(answer, "code"), System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : (int?)null;
            var message = ProviderAnswer.Field(answer, "message") ?? body;
            return code switch
            {
                21610 => new Refused(Reasons.OptedOut, Final: true),
                21211 or 21614 => new Refused(Reasons.InvalidPhone, Final: true),
                _ => new Refused($"{Reasons.ProviderError}: twilio {(int)response.StatusCode}{(code is null ? "" : $" {code}")}: {message}", Final: true,
                    Retryable: HttpResilience.Retryable(response.StatusCode) || code == 20429, MayHaveBeenTaken: HttpResilience.MayHaveTaken(response.StatusCode)),
            };
        }
    }


}
