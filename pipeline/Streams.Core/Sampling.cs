using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Streams.Core;

/// <summary>
/// Stable draws per key: the percent sample, the control group and every "random N" (reach limits, run limits) are
/// the same for the same campaign and user wherever they are drawn (dispatcher, scheduler, estimate).
/// </summary>
public static class Sampling
{
    /// <summary>A stable bucket in [0, 10000) for a key.</summary>
    public static uint Bucket(string key) => (uint)(Rank(key) >> 32) % 10_000;

    /// <summary>A stable 64-bit draw for a key: "random N" keeps the N lowest.</summary>
    public static ulong Rank(string key)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        return BinaryPrimitives.ReadUInt64BigEndian(hash);
    }

    /// <summary>A stable portion of users per campaign: the same user is always in or always out.</summary>
    public static bool Sampled(string campaignId, string userId, double percent) => Bucket($"{campaignId}\n{userId}") < percent * 100;

    /// <summary>The campaign-life reach limit's draw (scheduled campaigns keep the N lowest over their life).</summary>
    public static ulong LimitRank(string campaignId, string userId) => Rank($"limit\n{campaignId}\n{userId}");

    /// <summary>A run limit's draw: a different N of the qualified for each run.</summary>
    public static ulong RunLimitRank(string runId, string userId) => Rank($"run_limit\n{runId}\n{userId}");
}
