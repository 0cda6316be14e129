using System.Security.Cryptography;
using System.Text;

namespace Streams.Dispatcher.Webhooks;

/// <summary>
/// Twilio's X-Twilio-Signature: the URL as Twilio called it (with its query), then every POST parameter sorted
/// by name, appended as name + value; HMAC-SHA1 keyed with the auth token; base64.
/// </summary>
public static class TwilioSignature
{
    public static string Compute(string authToken, string url, IEnumerable<KeyValuePair<string, string>> form)
    {
        var data = new StringBuilder(url);
        foreach (var (k, v) in form.OrderBy(p => p.Key, StringComparer.Ordinal)) data.Append(k).Append(v);
        return Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(authToken), Encoding.UTF8.GetBytes(data.ToString())));
    }

    public static bool Valid(string authToken, string url, IEnumerable<KeyValuePair<string, string>> form, string? signature) =>
        signature is not null && Secrets.FixedEquals(Compute(authToken, url, form), signature);
}
