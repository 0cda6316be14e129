using Polly;
using Streams.Core;

namespace Streams.Dispatcher.Providers;

public sealed record KannelSettings
{
    /// <summary>smsbox's sendsms address, e.g. http://kannel:13013.</summary>
    public required string BaseUrl { get; init; }
    public required string Username { get; init; }
    public required string Password { get; init; }
    public string? From { get; init; }

    /// <summary>Our /webhooks/kannel as Kannel reaches it; absent means no delivery reports.</summary>
    public string? DlrUrl { get; init; }

    /// <summary>A shared secret Kannel sends back in the dlr-url (Kannel signs nothing).</summary>
    public string? DlrSecret { get; init; }
}

/// <summary>
/// Kannel's sendsms (GET): UTF-8 text, coding 0 for GSM-7 and 2 (UCS-2) otherwise, dlr-mask 31 and a dlr-url naming
/// our request, campaign and user, with %d (the report type) for Kannel to fill in. Answers "0: Accepted for
/// delivery" or "3: Queued for later delivery"; anything else is a refusal with Kannel's text. Kannel keeps no
/// message id we could ask for, so the message id is our request id and a claimed-but-unrecorded send is not repeated.
/// </summary>
public sealed class KannelProvider(string name, KannelSettings settings, HttpClient http, ResiliencePipeline<HttpResponseMessage> resilience) : ISmsProvider
{
    public const string TypeName = "kannel";

    /// <summary>The dlr-mask: delivered (1), not delivered (2), queued on SMSC (4), delivered to SMSC (8), not delivered to SMSC (16).</summary>
    public const int DlrMask = 31;

    public string Name => name;
    public string Kind => TypeName;

    /// <summary>Names everything the report needs (Kannel reports come at once, before any note could be read back).</summary>
    public string DlrUrlFor(SmsRequest r, SmsInfo info)
    {
        var url = $"{settings.DlrUrl}{(settings.DlrUrl!.Contains('?') ? '&' : '?')}r={Uri.EscapeDataString(r.RequestId)}&c={Uri.EscapeDataString(r.CampaignId)}"
            + $"&u={Uri.EscapeDataString(r.UserId)}&p={Uri.EscapeDataString(name)}&n={info.Segments}&e={Uri.EscapeDataString(info.Encoding)}&s=%d";
        return settings.DlrSecret is { } secret ? $"{url}&k={Uri.EscapeDataString(secret)}" : url;
    }

    public async Task<SendOutcome> SendAsync(OutboundSms sms, CancellationToken ct)
    {
        var from = sms.From ?? settings.From;
        var query = new List<string>
        {
            "username=" + Uri.EscapeDataString(settings.Username),
            "password=" + Uri.EscapeDataString(settings.Password),
            "to=" + Uri.EscapeDataString(sms.To),
            "text=" + Uri.EscapeDataString(sms.Text),
            "charset=UTF-8",
            "coding=" + (sms.Info.Encoding == SmsEncoding.Gsm7 ? "0" : "2"),
        };
        if (from is not null) query.Add("from=" + Uri.EscapeDataString(from));
        if (settings.DlrUrl is not null)
        {
            query.Add($"dlr-mask={DlrMask}");
            query.Add("dlr-url=" + Uri.EscapeDataString(DlrUrlFor(sms.Request, sms.Info)));
        }
        var url = $"{settings.BaseUrl.TrimEnd('/')}/cgi-bin/sendsms?{string.Join('&', query)}";
        var (response, refused) = await HttpResilience.SendAsync(resilience, http, () => new HttpRequestMessage(HttpMethod.Get, url), name, ct);
        if (refused is not null) return refused;
        using (response)
        {
            var text = (await response!.Content.ReadAsStringAsync(ct)).Trim();
            if (response.IsSuccessStatusCode && (text.StartsWith("0:", StringComparison.Ordinal) || text.StartsWith("3:", StringComparison.Ordinal)))
                return new Accepted(sms.Request.RequestId);
            return new Refused($"{Reasons.ProviderError}: kannel {(int)response.StatusCode}: {text}", Final: true, Retryable: HttpResilience.Retryable(response.StatusCode),
                MayHaveBeenTaken: HttpResilience.MayHaveTaken(response.StatusCode));
        }
    }


}
