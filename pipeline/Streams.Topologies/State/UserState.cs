using Streamiz.Kafka.Net.State;
using Streams.Core;
using Streams.Core.Segments;
using Streams.Kafka;

namespace Streams.Topologies.State;

/// <summary>
/// The live topology's per-user store, co-partitioned with events: each user's merged profile, their behaviour
/// summary, their saved-segment memberships, and the campaign timers (inaction, date reminders) waiting for them. The only code that knows its key
/// layout.
/// </summary>
public sealed class UserState(IKeyValueStore<string, byte[]> store)
{
    public const string StoreName = StoreNames.UserState;
    private const string ProfilePrefix = "p|";
    private const string BehaviourPrefix = "b|";
    private const string MembershipPrefix = "m|";
    private const string TimerPrefix = "t|";
    private const string TimerIndexPrefix = "i|";
    private const string ParkedPrefix = "q|";
    private const string ParkTimerPrefix = "w|";
    private const string ParkIndexPrefix = "x|";

    /// <summary>Per campaign and user, at most one waiting request (its context as of the trigger).</summary>
    public DueTimers Timers { get; } = new(store, TimerPrefix, TimerIndexPrefix);

    /// <summary>Per user with parked events, when they stop waiting for a profile.</summary>
    public DueTimers ParkDeadlines { get; } = new(store, ParkTimerPrefix, ParkIndexPrefix);

    /// <summary>
    /// Holds an event of a user with no profile yet, after any held before it; the first one held sets when they all stop
    /// waiting. Kept in the changelogged store, so a restart keeps them.
    /// </summary>
    public void Park(string userId, UserEvent ev, DateTimeOffset deadline)
    {
        // The deadline first, and set whenever none is indexed: a crash between the two writes then leaves a deadline
        // with nothing held (harmless) rather than held events no deadline will ever release.
        if (!ParkDeadlines.Has(userId)) ParkDeadlines.Schedule(userId, deadline, [0]);
        var held = store.Get(ParkedPrefix + userId);
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            if (held is not null) writer.Write(held);
            var bytes = Codecs.UserEvent.Encode(ev);
            writer.Write(bytes.Length);
            writer.Write(bytes);
        }
        store.Put(ParkedPrefix + userId, buffer.ToArray());
    }

    /// <summary>Removes and returns the user's held events, in the order they came (none when nothing is held).</summary>
    public IReadOnlyList<UserEvent> TakeParked(string userId)
    {
        if (store.Get(ParkedPrefix + userId) is not { } held) return [];
        store.Delete(ParkedPrefix + userId);
        ParkDeadlines.Cancel(userId);
        var events = new List<UserEvent>();
        using var reader = new BinaryReader(new MemoryStream(held));
        while (reader.BaseStream.Position < held.Length) events.Add(Codecs.UserEvent.DecodeOwn(reader.ReadBytes(reader.ReadInt32())));
        return events;
    }

    public static string TimerId(string campaignId, string userId) => $"{campaignId}|{userId}";

    public Profile? Profile(string userId) =>
        store.Get(ProfileKey(userId)) is { } bytes ? Codecs.ProfileUpdate.DecodeProfile(bytes) : null;

    /// <summary>Merges the update into the user's profile: the profile now, and whether it is the user's first.</summary>
    public (Profile Profile, bool First) Merge(string userId, ProfileUpdate update)
    {
        var before = Profile(userId);
        var merged = (before ?? Core.Profile.Empty(userId)).Merge(update);
        store.Put(ProfileKey(userId), Codecs.ProfileUpdate.EncodeProfile(merged));
        return (merged, before is null);
    }

    public BehaviourSummary Behaviour(string userId) =>
        store.Get(BehaviourPrefix + userId) is { } bytes ? BehaviourSummary.Decode(bytes) : new BehaviourSummary();

    public void Put(string userId, BehaviourSummary behaviour) => store.Put(BehaviourPrefix + userId, behaviour.Encode());

    /// <summary>The saved segments the user is in, as the segment job last published them (empty before it has).</summary>
    public IReadOnlySet<string> Memberships(string userId) =>
        store.Get(MembershipPrefix + userId) is { } bytes ? Codecs.Membership.DecodeOwn(bytes).Segments.ToHashSet(StringComparer.Ordinal) : new HashSet<string>();

    /// <summary>Keeps the newer evaluation: a record older than the one kept (a redelivery) changes nothing.</summary>
    public void PutMemberships(string userId, Membership membership)
    {
        if (store.Get(MembershipPrefix + userId) is { } bytes && Codecs.Membership.DecodeOwn(bytes).EvaluatedAt > membership.EvaluatedAt) return;
        store.Put(MembershipPrefix + userId, Codecs.Membership.Encode(membership));
    }

    /// <summary>Where a user's profile is kept, for a lookup from outside the topology (an interactive query).</summary>
    public static string ProfileKey(string userId) => ProfilePrefix + userId;

    /// <summary>The requests waiting for their inaction window or reminder, read from outside the topology.</summary>
    public static IEnumerable<(DateTimeOffset Due, SmsRequest Request)> Waiting(IReadOnlyKeyValueStore<string, byte[]> store) =>
        DueTimers.Waiting(store, TimerPrefix).Select(t => (t.Due, Codecs.SmsRequest.DecodeOwn(t.Value)));
}
