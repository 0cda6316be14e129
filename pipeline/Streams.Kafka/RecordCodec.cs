using System.Buffers.Binary;
using System.Text.Json;
using Avro;
using Avro.Generic;
using Avro.IO;

namespace Streams.Kafka;

/// <summary>
/// One topic value type on the wire. Writes Avro single-object encoding, or the Confluent wire format under a
/// registry's schema id; reads single-object encoding, the Confluent wire format (with a registry: by the writer
/// schema its id names; without one: with this topic's own schema) and strict JSON. Every failure is a
/// <see cref="DecodeException"/> with a reason code.
/// </summary>
public abstract class RecordCodec<T>(RecordSchema schema) where T : class
{
    public const int DefaultMaxBytes = 64 * 1024;

    private readonly byte[] _fingerprint = Schemas.Fingerprint(schema);
    private readonly GenericDatumWriter<GenericRecord> _writer = new(schema);
    private readonly GenericDatumReader<GenericRecord> _reader = new(schema, schema);

    public RecordSchema Schema { get; } = schema;

    protected abstract GenericRecord ToRecord(T value);
    protected abstract T FromRecord(GenericRecord record);
    protected abstract T FromJson(JsonFields json);

    /// <summary>Avro single-object encoding: C3 01, the schema's fingerprint, the Avro body.</summary>
    public byte[] Encode(T value)
    {
        Span<byte> header = stackalloc byte[10];
        header[0] = 0xC3;
        header[1] = 0x01;
        _fingerprint.CopyTo(header[2..]);
        return Write(header, value);
    }

    /// <summary>The Confluent wire format: magic byte 0, the registry's schema id (big-endian), the Avro body.</summary>
    public byte[] EncodeConfluent(T value, int schemaId)
    {
        Span<byte> header = stackalloc byte[5];
        header[0] = 0;
        BinaryPrimitives.WriteInt32BigEndian(header[1..], schemaId);
        return Write(header, value);
    }

    private byte[] Write(ReadOnlySpan<byte> header, T value)
    {
        using var stream = new MemoryStream();
        stream.Write(header);
        _writer.Write(ToRecord(value), new BinaryEncoder(stream));
        return stream.ToArray();
    }

    /// <summary>Decodes a value this pipeline wrote itself (a state store's, an internal topic's): it was checked
    /// when it came in, so no size limit applies.</summary>
    public T DecodeOwn(byte[] bytes) => Decode(bytes, int.MaxValue);

    /// <inheritdoc cref="DecodeOwn"/>
    public Decoded<T> TryDecodeOwn(byte[]? bytes) => TryDecode(bytes, int.MaxValue);

    public Decoded<T> TryDecode(byte[]? bytes, int maxBytes = DefaultMaxBytes, SchemaRegistryWire? registry = null)
    {
        try
        {
            return Decoded<T>.Success(Decode(bytes, maxBytes, registry));
        }
        catch (DecodeException e)
        {
            return Decoded<T>.Failure(e);
        }
    }

    public T Decode(byte[]? bytes, int maxBytes = DefaultMaxBytes, SchemaRegistryWire? registry = null)
    {
        if (bytes is null || bytes.Length == 0) throw new DecodeException(DecodeReasons.Empty, "the record has no value");
        if (bytes.Length > maxBytes)
            throw new DecodeException(DecodeReasons.Oversize, $"the value is {bytes.Length} bytes, over the {maxBytes}-byte limit");
        if (bytes.Length >= 2 && bytes[0] == 0xC3 && bytes[1] == 0x01)
        {
            if (bytes.Length < 10) throw new DecodeException(DecodeReasons.BadAvro, "single-object header is truncated");
            if (!bytes.AsSpan(2, 8).SequenceEqual(_fingerprint))
                throw new DecodeException(DecodeReasons.UnknownSchema,
                    $"single-object fingerprint {BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(2, 8)):x16} is not the {Schema.Fullname} schema");
            return Avro(bytes, 10, _reader);
        }
        if (bytes[0] == 0x00)
        {
            if (bytes.Length < 6) throw new DecodeException(DecodeReasons.BadAvro, "Confluent wire-format header is truncated");
            return registry is null ? Avro(bytes, 5, _reader) : Avro(bytes, 5, registry.ReaderFor(BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(1, 4)), Schema));
        }
        var first = Array.FindIndex(bytes, b => b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'));
        if (first >= 0 && bytes[first] == (byte)'{') return Json(bytes);
        throw new DecodeException(DecodeReasons.UnknownFormat, "not Avro (single-object or Confluent wire format) and not a JSON object");
    }

    private T Avro(byte[] bytes, int offset, GenericDatumReader<GenericRecord> reader)
    {
        GenericRecord record;
        using var stream = new MemoryStream(bytes, offset, bytes.Length - offset, writable: false);
        try
        {
            record = reader.Read(null!, new BinaryDecoder(stream));
        }
        catch (Exception e) when (e is AvroException or EndOfStreamException or IOException or OverflowException or ArgumentException or OutOfMemoryException or InvalidCastException or IndexOutOfRangeException)
        {
            throw new DecodeException(DecodeReasons.BadAvro, $"Avro body does not match {Schema.Fullname}: {e.Message}");
        }
        if (stream.Position != stream.Length)
            throw new DecodeException(DecodeReasons.BadAvro, $"{stream.Length - stream.Position} bytes left over after the {Schema.Fullname} record");
        return FromRecord(record);
    }

    private T Json(byte[] bytes)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new DecodeException(DecodeReasons.BadJson, $"invalid JSON: {e.Message}");
        }
        using (doc)
        {
            return FromJson(new JsonFields(doc.RootElement, ""));
        }
    }

    protected static DateTime Utc(DateTimeOffset t) => t.UtcDateTime;
    protected static DateTimeOffset Instant(object? avroValue) => avroValue switch
    {
        DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
        long ms => DateTimeOffset.FromUnixTimeMilliseconds(ms),
        _ => throw new DecodeException(DecodeReasons.WrongType, "timestamp is not a timestamp-millis value"),
    };

    protected static T2? Get<T2>(GenericRecord r, string field) => r.TryGetValue(field, out var v) && v is T2 t ? t : default;

    protected static IReadOnlyDictionary<string, object?> MapFrom(GenericRecord r, string field) =>
        r.TryGetValue(field, out var v) && v is IDictionary<string, object> map
            ? map.ToDictionary(kv => kv.Key, kv => Core.Props.Normalize(kv.Value))
            : Core.Props.Empty;

    protected static Dictionary<string, object?> MapTo(IReadOnlyDictionary<string, object?> props) =>
        props.ToDictionary(kv => kv.Key, kv => Core.Props.Normalize(kv.Value));
}
