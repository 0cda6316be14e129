using System.Security.Cryptography;
using System.Text;

namespace Streams.Core;

public static class RequestIds
{
    /// <summary>
    /// Same campaign, user and triggering event → same id, so a replayed or redelivered event
    /// can never become a second message. The campaign version is left out on purpose: re-applying
    /// a campaign must not re-send to users it already triggered for.
    /// </summary>
    public static string ForTrigger(string campaignId, string userId, string eventName, DateTimeOffset eventTs) =>
        Hash($"{campaignId}\n{userId}\n{eventName}\n{eventTs.ToUnixTimeMilliseconds()}");

    /// <summary>
    /// One request per run and user: a run planned twice (a resumed or a second scheduler) never sends twice. The id
    /// starts with the run's key and a dash, so results can be counted per run (<see cref="RunKey"/>).
    /// </summary>
    public static string ForRun(string runId, string userId) => ForRun(RunKey(runId), runId, userId);

    /// <summary><see cref="ForRun(string, string)"/> with the run's key computed once for all its users.</summary>
    public static string ForRun(string runKey, string runId, string userId) => $"{runKey}-{Hash($"run\n{runId}\n{userId}")[..21]}";

    /// <summary>The first <see cref="RunKeyLength"/> characters of every request id of a run.</summary>
    public static string RunKey(string runId) => Hash("runkey\n" + runId)[..RunKeyLength];

    public const int RunKeyLength = 10;

    public static string Hash(string input)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(input), digest);
        return Convert.ToHexStringLower(digest[..16]);
    }
}

public static class PhoneMask
{
    /// <summary>Logs keep the country code and the last two digits only: +91******10.</summary>
    public static string Mask(string? phone)
    {
        if (string.IsNullOrEmpty(phone)) return "(none)";
        if (phone.Length <= 5) return new string('*', phone.Length);
        return phone[..3] + new string('*', phone.Length - 5) + phone[^2..];
    }
}
