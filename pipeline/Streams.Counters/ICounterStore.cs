using Streams.Core;

namespace Streams.Counters;

/// <summary>One request's counters; Member is what Users counters count (the user id).</summary>
public sealed record SlotRequest(string Member, IReadOnlyList<Slot> Counters);

/// <summary>Granted, or the reason of the first full counter. Added[i]: counter i took a slot (for release).</summary>
public sealed record SlotGrant(string? DeniedReason, IReadOnlyList<bool> Added)
{
    public bool Granted => DeniedReason is null;
}

/// <summary>How many sends may go now, and how long until the next one may.</summary>
public readonly record struct Pace(int Granted, TimeSpan RetryAfter);

/// <summary>
/// The generic cell rate algorithm over a stored theoretical arrival time, in microseconds since the
/// Unix epoch (exact in a double, which is what Redis's Lua has): both stores share these steps.
/// </summary>
public static class Gcra
{
    public static long Micros(DateTimeOffset t) => (t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    public static long Interval(double perSecond) => (long)(1_000_000 / perSecond);

    public static (int Granted, long NewTat, long RetryAfterMicros) Take(long tat, long now, double perSecond, int burst, int wanted)
    {
        var interval = Interval(perSecond);
        var tolerance = interval * (Math.Max(1, burst) - 1);
        tat = Math.Max(tat, now);
        var granted = 0;
        while (granted < wanted && tat - now <= tolerance)
        {
            tat += interval;
            granted++;
        }
        var retry = Math.Max(0, tat - now - tolerance);
        return (granted, tat, retry);
    }
}

/// <summary>What a request's send-at-most-once key says.</summary>
public enum SendState { Absent, Claimed, Sent }

/// <summary>The outcome of trying to claim a request for sending.</summary>
public readonly record struct Claim(bool Won, SendState Previous, string? Detail);

/// <summary>
/// Shared counters: one contract, two implementations (Redis for any number of processes,
/// in-process for embedded mode). Later issues add frequency caps, limits and pacing here.
/// </summary>
public interface ICounterStore : IAsyncDisposable
{
    /// <summary>
    /// Atomically claims a request id before its send. Won=false means someone claimed or sent it
    /// before; Previous and Detail say what they recorded.
    /// </summary>
    Task<Claim> ClaimAsync(string requestId, string owner, TimeSpan keep);

    /// <summary>Records that the provider accepted the request; detail is what a redelivery needs to re-emit its result.</summary>
    Task MarkSentAsync(string requestId, string detail, TimeSpan keep);

    /// <summary>Gives a claim back when nothing was sent (the provider refused for good), so a later attempt may send.</summary>
    Task ReleaseAsync(string requestId);

    /// <summary>Takes a one-off marker (e.g. "this delivery report was already emitted"). True the first time only.</summary>
    Task<bool> TryMarkOnceAsync(string key, TimeSpan keep);

    /// <summary>
    /// For each request in order, atomically: if every counter it lists is below its limit, take one
    /// slot in each (a Users counter adds the member; a member already counted passes without taking
    /// one); otherwise take nothing and answer the first counter's reason. The whole batch is one round
    /// trip, atomic across processes.
    /// </summary>
    Task<IReadOnlyList<SlotGrant>> TakeSlotsAsync(IReadOnlyList<SlotRequest> requests);

    /// <summary>Gives back what a grant took (a send that failed for good).</summary>
    Task ReleaseSlotsAsync(SlotRequest request, SlotGrant grant);

    /// <summary>
    /// Pacing (GCRA): asks for up to <paramref name="wanted"/> sends under <paramref name="perSecond"/>,
    /// allowing at most <paramref name="burst"/> at once. Grants what fits now and says when the next
    /// one will. <paramref name="now"/> is the caller's clock, so hosts must keep time (NTP).
    /// </summary>
    Task<Pace> PaceAsync(string key, double perSecond, int burst, int wanted, DateTimeOffset now);

    /// <summary>Records consent for a subject ("phone:+91…" or "user:u1"); an older change never overwrites a newer one.</summary>
    Task SetOptOutAsync(string subject, bool optedOut, DateTimeOffset at);

    /// <summary>For each list of subjects, whether any of them is opted out. One round trip.</summary>
    Task<IReadOnlyList<bool>> OptedOutAsync(IReadOnlyList<IReadOnlyList<string>> subjects);

    Task IncrementAsync(string campaignId, string counter, long by = 1);

    /// <summary>For each request id, the detail recorded when it was marked sent, else null. One round trip.</summary>
    Task<IReadOnlyList<string?>> SentDetailsAsync(IReadOnlyList<string> requestIds);

    /// <summary>Takes a once marker back (its effect did not happen), so the next attempt is the first again.</summary>
    Task UnmarkOnceAsync(string key);

    /// <summary>A small shared note (e.g. which request a provider's message id belongs to), kept for <paramref name="keep"/>.</summary>
    Task RememberAsync(string key, string value, TimeSpan keep);

    Task<string?> RecallAsync(string key);

    Task<IReadOnlyDictionary<string, long>> CampaignCountsAsync(string campaignId);
}
