namespace Streams.Kafka;

/// <summary>Why an input was rejected. The reason is a stable code (sms.dlq header dlq.reason); the message says what to fix.</summary>
public sealed class DecodeException(string reason, string message) : Exception(message)
{
    public string Reason { get; } = reason;
}

public static class DecodeReasons
{
    public const string Empty = "empty";
    public const string Oversize = "oversize";
    public const string UnknownFormat = "unknown_format";
    public const string UnknownSchema = "unknown_schema";
    public const string BadAvro = "bad_avro";
    public const string BadJson = "bad_json";
    public const string MissingField = "missing_field";
    public const string WrongType = "wrong_type";
    public const string UnknownField = "unknown_field";
    public const string InvalidValue = "invalid_value";
    public const string KeyMismatch = "key_mismatch";
}

public readonly record struct Decoded<T>(T? Value, DecodeException? Error) where T : class
{
    public bool Ok => Value is not null;
    public static Decoded<T> Success(T value) => new(value, null);
    public static Decoded<T> Failure(DecodeException e) => new(null, e);
}
