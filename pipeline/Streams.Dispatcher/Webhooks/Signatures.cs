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
        signature is not null && FixedEquals(Compute(authToken, url, form), signature);

    public static bool FixedEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}

/// <summary>
/// Sinch callback signatures (as the Sinch .NET SDK checks them): headers x-sinch-webhook-signature, -timestamp,
/// -nonce, -algorithm (HmacSHA256); the signed string is "{raw body}.{nonce}.{timestamp}", keyed with the secret; base64.
/// </summary>
public static class SinchSignature
{
    public static string Compute(string secret, string rawBody, string nonce, string timestamp) =>
        Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{rawBody}.{nonce}.{timestamp}")));

    public static bool Valid(string secret, string rawBody, string? nonce, string? timestamp, string? algorithm, string? signature) =>
        signature is not null && nonce is not null && timestamp is not null
        && string.Equals(algorithm ?? "HmacSHA256", "HmacSHA256", StringComparison.OrdinalIgnoreCase)
        && TwilioSignature.FixedEquals(Compute(secret, rawBody, nonce, timestamp), signature);
}
