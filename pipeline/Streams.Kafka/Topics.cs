using Confluent.Kafka;
using Streams.Core;

namespace Streams.Kafka;

/// <summary>A topic's name. Converts to its name wherever a client asks for one.</summary>
public record Topic(string Name)
{
    public static implicit operator string(Topic topic) => topic.Name;

    public override string ToString() => Name;
}

/// <summary>A topic and the codec of its values: what is produced to it and read from it goes through that codec.</summary>
public sealed record Topic<T>(string Name, RecordCodec<T> Codec) : Topic(Name) where T : class
{
    public Message<string, byte[]> Message(string key, T value, Headers? headers = null) =>
        new() { Key = key, Value = Codec.Encode(value), Headers = headers };

    public Task<DeliveryResult<string, byte[]>> ProduceAsync(IProducer<string, byte[]> producer, string key, T value, CancellationToken ct = default) =>
        producer.ProduceAsync(Name, Message(key, value), ct);

    /// <summary>Decodes a value this pipeline wrote itself (it was checked when it came in, so no size limit applies).</summary>
    public T Decode(byte[] value) => Codec.DecodeOwn(value);

    public Decoded<T> TryDecode(byte[]? value, int maxBytes = int.MaxValue) => Codec.TryDecode(value, maxBytes);

    public override string ToString() => Name;
}

/// <summary>Every topic, declared once with its value type. Names get the configured prefix.</summary>
public sealed record Topics(string Prefix = "sms.")
{
    public Topic<UserEvent> Events => new(Prefix + "events", Codecs.UserEvent);
    public Topic<ProfileUpdate> Profiles => new(Prefix + "profiles", Codecs.ProfileUpdate);
    public Topic<CampaignRecord> Campaigns => new(Prefix + "campaigns", Codecs.CampaignRecord);

    /// <summary>Saved segments, compacted, keyed by id: versioned definitions in the campaign record's shape (the spec is the segment file).</summary>
    public Topic<CampaignRecord> Segments => new(Prefix + "segments", Codecs.CampaignRecord);
    /// <summary>Each user's tracked saved-segment memberships, compacted, keyed by user id (co-partitioned with events).</summary>
    public Topic<Membership> Memberships => new(Prefix + "memberships", Codecs.Membership);

    public Topic<SmsRequest> Requests => new(Prefix + "requests", Codecs.SmsRequest);
    public Topic<ScheduledRequest> Scheduled => new(Prefix + "scheduled", Codecs.ScheduledRequest);
    public Topic<SmsResult> Results => new(Prefix + "results", Codecs.SmsResult);
    public Topic<InboundMessage> Inbound => new(Prefix + "inbound", Codecs.InboundMessage);

    /// <summary>Scheduled campaigns' runs, compacted, keyed by run id; one partition: its owner in the scheduler group plans runs.</summary>
    public Topic<Core.Schedules.RunRecord> Runs => new(Prefix + "runs", Codecs.RunRecord);
    public Topic<Core.Schedules.Alert> Alerts => new(Prefix + "alerts", Codecs.Alert);

    /// <summary>Goal events credited to exposures, by the attribution topology.</summary>
    public Topic<ConversionRecord> Conversions => new(Prefix + "conversions", Codecs.Conversion);

    /// <summary>Records that could not be read, byte for byte, with <see cref="DlqHeaders"/> saying why.</summary>
    public Topic Dlq => new(Prefix + "dlq");

    /// <summary>The topics that keep only the latest record per key.</summary>
    public IReadOnlyList<string> Compacted => [Campaigns, Segments, Memberships, Runs];

    public IReadOnlyList<string> All => [Events, Profiles, Campaigns, Segments, Memberships, Requests, Scheduled, Results, Conversions, Inbound, Runs, Alerts, Dlq];

    public static Topics Default { get; } = new();
}
