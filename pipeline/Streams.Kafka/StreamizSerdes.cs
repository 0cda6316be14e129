using Confluent.Kafka;
using Streamiz.Kafka.Net.SerDes;
using Streams.Core;

namespace Streams.Kafka;

/// <summary>Topology-facing serdes over a topic's codec; values inside a topology were already checked at ingest.</summary>
public sealed class SmsRequestSerDes : AbstractSerDes<SmsRequest>
{
    public override byte[] Serialize(SmsRequest data, SerializationContext context) => data is null ? null! : Codecs.SmsRequest.Encode(data);

    public override SmsRequest Deserialize(byte[] data, SerializationContext context) => data is null ? null! : Codecs.SmsRequest.DecodeOwn(data);
}

public sealed class ConversionSerDes : AbstractSerDes<ConversionRecord>
{
    public override byte[] Serialize(ConversionRecord data, SerializationContext context) => data is null ? null! : Codecs.Conversion.Encode(data);

    public override ConversionRecord Deserialize(byte[] data, SerializationContext context) => data is null ? null! : Codecs.Conversion.DecodeOwn(data);
}
