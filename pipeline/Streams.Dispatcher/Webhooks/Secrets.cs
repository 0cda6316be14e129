using System.Security.Cryptography;
using System.Text;

namespace Streams.Dispatcher.Webhooks;

public static class Secrets
{
    /// <summary>Compares in constant time, so a caller cannot learn a secret from how long a refusal takes.</summary>
    public static bool FixedEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
