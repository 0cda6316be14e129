using System.Security.Cryptography;
using System.Text;

namespace Streams.Dispatcher.Webhooks;

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
        && Secrets.FixedEquals(Compute(secret, rawBody, nonce, timestamp), signature);
}
