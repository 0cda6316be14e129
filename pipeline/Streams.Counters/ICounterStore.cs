using Streams.Core;

namespace Streams.Counters;

/// <summary>How many sends may go now, and how long until the next one may.</summary>
public readonly record struct Pace(int Granted, TimeSpan RetryAfter);

/// <summary>
/// The generic cell rate algorithm over a stored theoretical arrival time, in microseconds since the
/// Unix epoch (exact in a double, which is what Redis's Lua has).
/// </summary>
public static class Gcra
{
    public static long Micros(DateTimeOffset t) => (t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    public static long Interval(double perSecond) => (long)(1_000_000 / perSecond);
}

/// <summary>
/// A request at the moment it is handed to its provider (or, with <paramref name="Probe"/>, checked for a stop that
/// ranks after the counters, such as a DND discard: judged against the counters in order, taking nothing).
/// </summary>
/// <param name="Outcome">For a probe, the stop to record as the request's outcome when the counters let it through.</param>
public sealed record HandOver(string RequestId, string UserId, IReadOnlyList<Slot> Slots, bool Probe = false, string? Outcome = null);

public enum HandOverState
{
    /// <summary>Claimed for this owner and every slot taken: send it now.</summary>
    Won,
    /// <summary>Sent before (a redelivery); <see cref="HandOverResult.Detail"/> is what was recorded.</summary>
    Sent,
    /// <summary>Claimed by another attempt that recorded no outcome (it may be sending, or it died sending).</summary>
    ClaimedByOther,
    /// <summary>Ended ambiguous before (the provider may have it): it stays so, never handed over again.</summary>
    Ambiguous,
    /// <summary>Refused for good before (<see cref="HandOverResult.Detail"/> is "status|reason"): the same outcome again.</summary>
    Outcome,
    /// <summary>A counter is full; nothing was taken.</summary>
    Denied,
    /// <summary>A probe that fits under every counter (nothing taken).</summary>
    Passed,
}

public sealed record HandOverResult(HandOverState State, string? Detail = null, string? DeniedReason = null, string? ClaimedBy = null, DateTimeOffset? ClaimedAt = null);

/// <summary>
/// What the store keeps once a provider accepted a request: the send key's detail, the note a delivery report needs,
/// when to expect the report, and (again) the places the request holds, so a store that lost its data while the
/// call was out learns them with the send.
/// </summary>
public sealed record SentRecord(string RequestId, string CampaignId, string Detail, string? NoteKey, string? Note, DateTimeOffset ReportDue, string ReportInfo,
    string? UserId = null, IReadOnlyList<Slot>? Slots = null);

/// <summary>
/// A request the provider refused for good: the places it holds go back, and its claim becomes its outcome
/// (<paramref name="Outcome"/>, "status|reason"), so a redelivery reports the same outcome instead of trying again.
/// </summary>
public sealed record Release(string RequestId, string UserId, IReadOnlyList<Slot> Slots, string Outcome = "");

/// <summary>A sent request whose delivery report is due (sandbox delivery, or a real provider's report timeout).</summary>
public sealed record DueReport(string RequestId, string Info);

/// <summary>
/// Shared counters and claims, on Redis (or the embedded mode's in-process Garnet, which runs the same scripts).
/// A request's idempotency claim and its cap and limit slots are taken together at the moment it is handed to the
/// provider. Slots are held per request: a counter remembers which request took each place, so a request that
/// comes back (redelivery, retry) finds its own place instead of taking a second one, and only the request that
/// took a place can give it back.
/// </summary>
public interface ICounterStore : IAsyncDisposable
{
    /// <summary>
    /// In order, for each item until <paramref name="wanted"/> sends are won (probes are always judged): a sent request
    /// answers Sent; one claimed by another owner answers ClaimedByOther; otherwise, if every counter has room (or
    /// already counts this request or user), a send takes its claim and its slots and answers Won, a probe answers
    /// Passed; else Denied with the first full counter's reason. One atomic round trip. Returns one answer per item
    /// judged, which may be fewer than given.
    /// </summary>
    Task<IReadOnlyList<HandOverResult>> HandOverAsync(IReadOnlyList<HandOver> items, string owner, int wanted, DateTimeOffset now, TimeSpan keep);

    /// <summary>Records accepted sends (send key, report note, pending report, campaign count) in one round trip.</summary>
    Task RecordSentAsync(IReadOnlyList<SentRecord> records, TimeSpan keep);

    /// <summary>
    /// Records that these requests' outcome is unknown (the provider may have them): their claims become a lasting
    /// "ambiguous" mark and the places they took stay taken, so they are never sent again nor counted for nobody.
    /// </summary>
    Task RecordAmbiguousAsync(IReadOnlyList<(string RequestId, string Detail)> requests, TimeSpan keep);

    /// <summary>Gives back the places each refused request holds and turns its claim (this owner's) into its outcome, in one round trip.</summary>
    Task ReleaseAsync(IReadOnlyList<Release> releases, string owner);

    /// <summary>
    /// For each request id, the outcome recorded for it — sent (with its detail), ambiguous (with its reason) or ended
    /// (status|reason) — else null (never handed over, or only claimed). One round trip.
    /// </summary>
    Task<IReadOnlyList<HandOverResult?>> RecordedAsync(IReadOnlyList<string> requestIds);

    /// <summary>Pending reports due by <paramref name="now"/>; each is leased for <paramref name="lease"/> so another process does not take it meanwhile.</summary>
    Task<IReadOnlyList<DueReport>> DueReportsAsync(DateTimeOffset now, TimeSpan lease, int max);

    /// <summary>The final report of these requests is stored: they are no longer pending.</summary>
    Task CompleteReportsAsync(IReadOnlyList<string> requestIds);

    /// <summary>Takes a one-off marker (e.g. "this delivery report was already emitted"). True the first time only.</summary>
    Task<bool> TryMarkOnceAsync(string key, TimeSpan keep);

    /// <summary>Whether a once marker is there.</summary>
    Task<bool> IsMarkedAsync(string key);

    /// <summary>Takes a once marker back (its effect did not happen), so the next attempt is the first again.</summary>
    Task UnmarkOnceAsync(string key);

    /// <summary>Stores <paramref name="value"/> under a key unless one is there; returns the value already there, or null when this one was stored.</summary>
    Task<string?> RememberOnceAsync(string key, string value, TimeSpan keep);

    /// <summary>A small shared note (e.g. which request a provider's message id belongs to), kept for <paramref name="keep"/>.</summary>
    Task RememberAsync(string key, string value, TimeSpan keep);

    Task<string?> RecallAsync(string key);

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

    /// <summary>Live per-campaign result counts (for metrics and progress; reports count from analytics).</summary>
    Task CountAsync(IReadOnlyList<(string CampaignId, string Counter)> counts);

    Task<IReadOnlyDictionary<string, long>> CampaignCountsAsync(string campaignId);

    /// <summary>The mark this store's data carries since it was (re)built; null when the store lost it (or is new).</summary>
    Task<string?> EpochAsync();

    /// <summary>Marks the data as complete; false when a mark is already there.</summary>
    Task<bool> SetEpochAsync(string epoch);

    /// <summary>A lease-bound lock (e.g. "one dispatcher rebuilds"); true when taken.</summary>
    Task<bool> TryLockAsync(string name, string owner, TimeSpan lease);

    Task UnlockAsync(string name, string owner);

    /// <summary>Puts back what Kafka says was sent: send keys, the places each request held, report notes and pending reports.</summary>
    Task RestoreAsync(IReadOnlyList<RestoredSend> sends);
}

/// <summary>One request as sms.results tells it, for rebuilding a store that lost its data.</summary>
public sealed record RestoredSend(
    string RequestId, string UserId, string CampaignId, string SendValue, TimeSpan SendKeep,
    IReadOnlyList<(CounterKind Kind, string Key, TimeSpan Keep)> Places,
    string? NoteKey, string? Note, DateTimeOffset? ReportDue, string? ReportInfo);

public static class CounterStoreExtensions
{
    public static Task IncrementAsync(this ICounterStore store, string campaignId, string counter) => store.CountAsync([(campaignId, counter)]);
}
