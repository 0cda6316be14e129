using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Crosscutting;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;
using Streamiz.Kafka.Net.Table;
using Streams.Core;
using Streams.Kafka;
using Streams.Topologies.Ingest;

namespace Streams.Topologies.LiveTrigger;

public sealed record LiveTriggerOptions
{
    public Topics Topics { get; init; } = Topics.Default;
    public int MaxInputBytes { get; init; } = RecordCodec<UserEvent>.DefaultMaxBytes;

    /// <summary>The clock inaction windows are judged on; the punctuator only sets how often to look.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
    public TimeSpan ScanEvery { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How many days of per-user behaviour the live segments can look back.</summary>
    public int HorizonDays { get; init; } = Core.Segments.BehaviourSummary.DefaultHorizonDays;

    /// <summary>
    /// How long an event of a user with no profile yet waits for one (see <see cref="TriggerMatcher"/>); zero judges it at
    /// once. The pipeline sets it from <c>profile_wait</c>; a replay that reads profiles first needs none.
    /// </summary>
    public TimeSpan ProfileWait { get; init; }
}

/// <summary>
/// Events whose name matches an active live campaign's trigger become SmsRequests; with
/// <c>inaction</c>, only when the follow-up event does not come within the window. Profiles
/// are merged into a table co-partitioned with events (both keyed by user id), so each request
/// carries the profile as it was when the event was processed; the segment job's memberships (sms.memberships, the
/// same key) are kept beside the profile for <c>ref</c>; campaigns come from a global
/// table over the compacted sms.campaigns topic, so a change reaches every instance.
/// </summary>
public static class LiveTriggerTopology
{
    public static void Build(StreamBuilder builder, LiveTriggerOptions options)
    {
        var topics = options.Topics;

        // Raw bytes: the matcher decodes a campaign only when its record changed, not on every event.
        var campaigns = new CampaignStore();
        builder.GlobalTable(topics.Campaigns, new StringSerDes(), new ByteArraySerDes(), campaigns.Materialized());

        var profiles = IngestStream
            .Decode(builder, topics.Profiles, topics.Dlq, options.MaxInputBytes, p => p.UserId)
            .MapValues((_, p, _) => new UserInput(null, p), "profile-input");
        var memberships = IngestStream
            .Decode(builder, topics.Memberships, topics.Dlq, options.MaxInputBytes, m => m.UserId)
            .MapValues((_, m, _) => new UserInput(null, null, m), "membership-input");

        // One per-user processor owns the profile store and sees both topics (co-partitioned by user id).
        // Streamiz 1.8.2's KStream-KTable join cannot be used here: its aggregate value-getter supplier
        // hands one getter to every task, so each task would read the last task's store.
        IngestStream
            .Decode(builder, topics.Events, topics.Dlq, options.MaxInputBytes, e => e.UserId)
            .MapValues((_, e, _) => new UserInput(e, null), "event-input")
            .Merge(profiles, "user-inputs")
            .Merge(memberships, "user-memberships")
            .Transform(TransformerBuilder.New<string, UserInput, string, SmsRequest>()
                .Transformer<TriggerMatcher>(options.Time, options.ScanEvery, options.HorizonDays, campaigns, options.ProfileWait)
                .StateStore(Streamiz.Kafka.Net.State.Stores.KeyValueStoreBuilder(
                    Streamiz.Kafka.Net.State.Stores.PersistentKeyValueStore(StoreNames.UserState), new StringSerDes(), new ByteArraySerDes()))
                .Build(), "match-live-triggers")
            .ToByKey<string, SmsRequest, StringSerDes, SmsRequestSerDes>(topics.Requests, "live-requests");
    }
}

/// <summary>An event, a profile update or the saved-segment memberships of one user.</summary>
public sealed record UserInput(UserEvent? Event, ProfileUpdate? Profile, Membership? Membership = null);
