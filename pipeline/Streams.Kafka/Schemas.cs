using System.Buffers.Binary;
using Avro;

namespace Streams.Kafka;

/// <summary>The Avro schemas of schemas/, embedded, with their single-object fingerprints.</summary>
public static class Schemas
{
    public static RecordSchema UserEvent { get; } = Load("UserEvent");
    public static RecordSchema ProfileUpdate { get; } = Load("ProfileUpdate");
    public static RecordSchema CampaignRecord { get; } = Load("CampaignRecord");
    public static RecordSchema SmsRequest { get; } = Load("SmsRequest");
    public static RecordSchema SmsResult { get; } = Load("SmsResult");
    public static RecordSchema Conversion { get; } = Load("Conversion");
    public static RecordSchema InboundMessage { get; } = Load("InboundMessage");
    public static RecordSchema Membership { get; } = Load("Membership");
    public static RecordSchema RunRecord { get; } = Load("RunRecord");
    public static RecordSchema Alert { get; } = Load("Alert");
    public static RecordSchema ScheduledRequest { get; } = Load("ScheduledRequest", ("\"streams.SmsRequest\"", Text("SmsRequest")));

    public static IReadOnlyList<RecordSchema> All =>
        [UserEvent, ProfileUpdate, CampaignRecord, SmsRequest, SmsResult, Conversion, InboundMessage, ScheduledRequest, Membership, RunRecord, Alert];

    /// <summary>CRC-64-AVRO of the parsing canonical form, as the single-object header carries it (little-endian).</summary>
    public static byte[] Fingerprint(Schema schema)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, SchemaNormalization.ParsingFingerprint64(schema));
        return bytes;
    }

    private static string Text(string name)
    {
        using var stream = typeof(Schemas).Assembly.GetManifestResourceStream($"schemas/streams/{name}.avsc")
            ?? throw new InvalidOperationException($"schema {name} is not embedded");
        return new StreamReader(stream).ReadToEnd();
    }

    // A schema file that names another record gets that record's definition inlined, so each file parses alone.
    private static RecordSchema Load(string name, params (string Reference, string Definition)[] inline)
    {
        var text = Text(name);
        foreach (var (reference, definition) in inline) text = text.Replace(reference, definition, StringComparison.Ordinal);
        return (RecordSchema)Schema.Parse(text);
    }
}
