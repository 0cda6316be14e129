using Confluent.Kafka;
using Streamiz.Kafka.Net.SerDes;
using Streams.Core;

namespace Streams.Serdes;

/// <summary>Topology-facing serdes over the codecs; values inside a topology were already checked at ingest.</summary>
public abstract class CodecSerDes<T>(RecordCodec<T> codec) : AbstractSerDes<T> where T : class
{
    public override byte[] Serialize(T data, SerializationContext context) => data is null ? null! : codec.Encode(data);

    public override T Deserialize(byte[] data, SerializationContext context) => data is null ? null! : codec.Decode(data, int.MaxValue);
}

public sealed class UserEventSerDes() : CodecSerDes<UserEvent>(Codecs.UserEvent);
public sealed class ProfileUpdateSerDes() : CodecSerDes<ProfileUpdate>(Codecs.ProfileUpdate);
public sealed class SmsRequestSerDes() : CodecSerDes<SmsRequest>(Codecs.SmsRequest);
public sealed class SmsResultSerDes() : CodecSerDes<SmsResult>(Codecs.SmsResult);

/// <summary>
/// sms.campaigns is written by `streams campaign apply`, which validates first; a record that still
/// does not decode is read as absent (logged by the caller) rather than stopping the global thread.
/// </summary>
public sealed class CampaignRecordSerDes : AbstractSerDes<CampaignRecord>
{
    public override byte[] Serialize(CampaignRecord data, SerializationContext context) =>
        data is null ? null! : Codecs.CampaignRecord.Encode(data);

    public override CampaignRecord Deserialize(byte[] data, SerializationContext context) =>
        Codecs.CampaignRecord.TryDecode(data, int.MaxValue).Value!;
}

public sealed class ProfileSerDes : AbstractSerDes<Profile>
{
    public override byte[] Serialize(Profile data, SerializationContext context) =>
        data is null ? null! : Codecs.ProfileUpdate.EncodeProfile(data);

    public override Profile Deserialize(byte[] data, SerializationContext context) =>
        data is null ? null! : Codecs.ProfileUpdate.DecodeProfile(data);
}
