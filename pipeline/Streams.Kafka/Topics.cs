using Confluent.Kafka;
using Streams.Core;

namespace Streams.Kafka;

/// <summary>A topic's name. Converts to its name wherever a client asks for one.</summary>
public record Topic(string Name)
{
    /// <summary>The Avro schema of the topic's values; none for a topic of raw bytes (sms.dlq).</summary>
    public virtual Avro.RecordSchema? ValueSchema => null;

    public static implicit operator string(Topic topic) => topic.Name;

    public override string ToString() => Name;
}

/// <summary>
/// A topic and the codec of its values: what is produced to it and read from it goes through that codec (and, with a
/// schema registry, the Confluent wire format).
/// </summary>
public sealed record Topic<T>(string Name, RecordCodec<T> Codec, SchemaRegistryWire? Registry = null) : Topic(Name) where T : class
{
    public Message<string, byte[]> Message(string key, T value, Headers? headers = null) =>
        new() { Key = key, Value = Encode(value), Headers = headers };

    public override Avro.RecordSchema ValueSchema => Codec.Schema;

    public byte[] Encode(T value) =>
        Registry is { WriteOutputs: true } registry ? Codec.EncodeConfluent(value, registry.IdFor(Name, Codec.Schema)) : Codec.Encode(value);

    public Task<DeliveryResult<string, byte[]>> ProduceAsync(IProducer<string, byte[]> producer, string key, T value, CancellationToken ct = default) =>
        producer.ProduceAsync(Name, Message(key, value), ct);

    /// <summary>Decodes a value this pipeline wrote itself (it was checked when it came in, so no size limit applies).</summary>
    public T Decode(byte[] value) => Codec.Decode(value, int.MaxValue, Registry);

    public Decoded<T> TryDecode(byte[]? value, int maxBytes = int.MaxValue) => Codec.TryDecode(value, maxBytes, Registry);

    public override string ToString() => Name;
}

/// <summary>Every topic, declared once with its value type. Names get the configured prefix.</summary>
public sealed record Topics(string Prefix = "sms.", SchemaRegistryWire? Registry = null)
{
    public Topic<UserEvent> Events => new(Prefix + "events", Codecs.UserEvent, Registry);
    public Topic<ProfileUpdate> Profiles => new(Prefix + "profiles", Codecs.ProfileUpdate, Registry);
    public Topic<CampaignRecord> Campaigns => new(Prefix + "campaigns", Codecs.CampaignRecord, Registry);

    /// <summary>Saved segments, compacted, keyed by id: versioned definitions in the campaign record's shape (the spec is the segment file).</summary>
    public Topic<CampaignRecord> Segments => new(Prefix + "segments", Codecs.CampaignRecord, Registry);
    /// <summary>Each user's tracked saved-segment memberships, compacted, keyed by user id (co-partitioned with events).</summary>
    public Topic<Membership> Memberships => new(Prefix + "memberships", Codecs.Membership, Registry);

    public Topic<SmsRequest> Requests => new(Prefix + "requests", Codecs.SmsRequest, Registry);
    public Topic<ScheduledRequest> Scheduled => new(Prefix + "scheduled", Codecs.ScheduledRequest, Registry);
    public Topic<SmsResult> Results => new(Prefix + "results", Codecs.SmsResult, Registry);
    public Topic<InboundMessage> Inbound => new(Prefix + "inbound", Codecs.InboundMessage, Registry);

    /// <summary>Scheduled campaigns' runs, compacted, keyed by run id; one partition: its owner in the scheduler group plans runs.</summary>
    public Topic<Core.Schedules.RunRecord> Runs => new(Prefix + "runs", Codecs.RunRecord, Registry);
    public Topic<Core.Schedules.Alert> Alerts => new(Prefix + "alerts", Codecs.Alert, Registry);

    /// <summary>Goal events credited to exposures, by the attribution topology.</summary>
    public Topic<ConversionRecord> Conversions => new(Prefix + "conversions", Codecs.Conversion, Registry);

    /// <summary>Records that could not be read, byte for byte, with <see cref="DlqHeaders"/> saying why.</summary>
    public Topic Dlq => new(Prefix + "dlq");

    /// <summary>The topics that keep only the latest record per key.</summary>
    public IReadOnlyList<string> Compacted => [Campaigns, Segments, Memberships, Runs];

    private IReadOnlyList<Topic> Every => [Events, Profiles, Campaigns, Segments, Memberships, Requests, Scheduled, Results, Conversions, Inbound, Runs, Alerts, Dlq];

    public IReadOnlyList<string> All => [.. Every.Select(t => t.Name)];

    /// <summary>Each topic with a value schema and that schema: the Schema Registry subjects (TopicNameStrategy) the pipeline uses.</summary>
    public IReadOnlyList<(string Topic, Avro.RecordSchema Schema)> Schemas => [.. Every.Where(t => t.ValueSchema is not null).Select(t => (t.Name, t.ValueSchema!))];

    public static Topics Default { get; } = new();
}
