using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Table;
using Streams.Core;
using Streams.Kafka;

using Streams.Topologies.LiveTrigger;

namespace Streams.Topologies.Attribution;

public sealed record AttributionOptions
{
    public Topics Topics { get; init; } = Topics.Default;
    public int MaxInputBytes { get; init; } = RecordCodec<UserEvent>.DefaultMaxBytes;

    /// <summary>Caps stream time (a record stamped in the future expires nothing early); windows are judged on record times.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>How long a goal event waits in the ledger, on stream time, for an exposure that lags behind it.</summary>
    public TimeSpan ExposureLag { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How often every user's ledger is swept for what has expired (users never seen again included).</summary>
    public TimeSpan SweepEvery { get; init; } = TimeSpan.FromMinutes(10);
}

/// <summary>
/// Conversion attribution, keyed by user: exposures (a <c>sent</c> result; a control user's <c>control_group</c> or
/// <c>global_control</c> result, written at the moment the send would have happened) and goal events meet in one
/// per-user ledger; a goal event inside a campaign's window after an exposure becomes one <see cref="ConversionRecord"/>
/// on sms.conversions. Its own Streamiz application: sms.events already has a reader in the live topology, and a
/// topic has one source per application. Undecodable records are left to the live topology (events) and the
/// dispatcher (results), which dead-letter them; this one skips them.
/// </summary>
public static class AttributionTopology
{
    public static void Build(StreamBuilder builder, AttributionOptions options)
    {
        var topics = options.Topics;
        var campaigns = new CampaignStore();
        builder.GlobalTable(topics.Campaigns, new StringSerDes(), new ByteArraySerDes(), campaigns.Materialized());

        var exposures = builder.Stream(topics.Results, new StringSerDes(), new ByteArraySerDes())
            .MapValues((_, raw, _) => topics.Results.TryDecode(raw) is { Ok: true, Value: { } r } && ExposureGroup.Of(r) is not null ? new Touch(null, r) : null,
                "decode-exposures")
            .Filter((_, t, _) => t is not null, "exposures");
        builder.Stream(topics.Events, new StringSerDes(), new ByteArraySerDes())
            .MapValues((_, raw, _) => topics.Events.TryDecode(raw, options.MaxInputBytes) is { Ok: true, Value: { } e } ? new Touch(e, null) : null,
                "decode-goal-events")
            .Filter((key, t, _) => t is not null && t.Event!.UserId == key, "goal-events")
            .Merge(exposures, "touches")
            .MapValues((_, t, _) => t!, "touch")
            .Transform(TransformerBuilder.New<string, Touch, string, ConversionRecord>()
                .Transformer<Attributor>(options.Time, options.SweepEvery, options.ExposureLag, campaigns)
                .StateStore(Stores.KeyValueStoreBuilder(Stores.PersistentKeyValueStore(StoreNames.Attribution), new StringSerDes(), new ByteArraySerDes()))
                .Build(), "attribute-conversions")
            .ToByKey<string, ConversionRecord, StringSerDes, ConversionSerDes>(topics.Conversions, "conversions");
    }
}

/// <summary>An event, or a result that exposed its user.</summary>
public sealed record Touch(UserEvent? Event, SmsResult? Exposure);
