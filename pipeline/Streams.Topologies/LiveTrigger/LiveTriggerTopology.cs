using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Crosscutting;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;
using Streamiz.Kafka.Net.Table;
using Streams.Core;
using Streams.Serdes;
using Streams.Topologies.Ingest;

namespace Streams.Topologies.LiveTrigger;

public sealed record LiveTriggerOptions
{
    public Topics Topics { get; init; } = Topics.Default;
    public int MaxInputBytes { get; init; } = RecordCodec<UserEvent>.DefaultMaxBytes;
}

/// <summary>
/// Events whose name matches an active live campaign's trigger become SmsRequests. Profiles
/// are merged into a table co-partitioned with events (both keyed by user id), so each request
/// carries the profile as it was when the event was processed; campaigns come from a global
/// table over the compacted sms.campaigns topic, so a change reaches every instance.
/// </summary>
public static class LiveTriggerTopology
{
    public static void Build(StreamBuilder builder, LiveTriggerOptions options)
    {
        var topics = options.Topics;

        builder.GlobalTable(topics.Campaigns, new StringSerDes(), new CampaignRecordSerDes(),
            InMemory.As<string, CampaignRecord>(StoreNames.Campaigns));

        var profiles = IngestStream
            .Decode(builder, topics.Profiles, topics.Dlq, Codecs.ProfileUpdate, options.MaxInputBytes, p => p.UserId)
            .GroupByKey<StringSerDes, ProfileUpdateSerDes>()
            .Aggregate(
                () => Profile.Empty(""),
                (userId, update, profile) => (profile.UserId.Length == 0 ? Profile.Empty(userId) : profile).Merge(update),
                RocksDb.As<string, Profile>(StoreNames.Profiles).WithKeySerdes(new StringSerDes()).WithValueSerdes(new ProfileSerDes()));

        IngestStream
            .Decode(builder, topics.Events, topics.Dlq, Codecs.UserEvent, options.MaxInputBytes, e => e.UserId)
            .LeftJoin(profiles, (ev, profile) => new EventWithProfile(ev, profile))
            .Transform(TransformerBuilder.New<string, EventWithProfile, string, SmsRequest>()
                .Transformer<TriggerMatcher>()
                .Build(), "match-live-triggers")
            .To<StringSerDes, SmsRequestSerDes>(topics.Requests);
    }
}

public sealed record EventWithProfile(UserEvent Event, Profile? Profile);
