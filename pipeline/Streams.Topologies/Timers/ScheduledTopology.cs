using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.SerDes;
using Streams.Core;
using Streams.Kafka;
using Streams.Topologies.Ingest;

namespace Streams.Topologies.Timers;

public sealed record ScheduledOptions
{
    public Topics Topics { get; init; } = Topics.Default;
    public TimeProvider Time { get; init; } = TimeProvider.System;
    public TimeSpan ScanEvery { get; init; } = TimeSpan.FromSeconds(1);
    public int MaxInputBytes { get; init; } = RecordCodec<ScheduledRequest>.DefaultMaxBytes;
}

/// <summary>
/// Durable timers: requests in sms.scheduled wait in <see cref="State.DueTimers"/> (the same timers the live
/// topology keeps inaction windows and reminders in) and go back to sms.requests when their time comes. The
/// dispatcher re-checks everything when the request returns (consent, caps, DND, campaign state).
/// </summary>
public static class ScheduledTopology
{
    public static void Build(StreamBuilder builder, ScheduledOptions options)
    {
        IngestStream
            .Decode(builder, options.Topics.Scheduled, options.Topics.Dlq, options.MaxInputBytes, s => s.Request.UserId)
            .Transform(TransformerBuilder.New<string, ScheduledRequest, string, SmsRequest>()
                .Transformer<TimerTransformer>(options.Time, options.ScanEvery)
                .StateStore(Streamiz.Kafka.Net.State.Stores.KeyValueStoreBuilder(
                    Streamiz.Kafka.Net.State.Stores.PersistentKeyValueStore(StoreNames.Timers), new StringSerDes(), new ByteArraySerDes()))
                .Build(), "durable-timers")
            .ToByKey<string, SmsRequest, StringSerDes, SmsRequestSerDes>(options.Topics.Requests, "due-requests");
    }
}
