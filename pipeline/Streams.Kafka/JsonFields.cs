using System.Text.Json;
using Streams.Core;

namespace Streams.Kafka;

/// <summary>Strict reading of one JSON object: required fields, exact types, no unknown fields.</summary>
public readonly struct JsonFields(JsonElement element, string path)
{
    public void Only(params string[] allowed)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new DecodeException(DecodeReasons.WrongType, $"{Name("$")} must be a JSON object");
        foreach (var p in element.EnumerateObject())
        {
            if (!allowed.Contains(p.Name))
                throw new DecodeException(DecodeReasons.UnknownField, $"unknown field '{path}{p.Name}' (expected: {string.Join(", ", allowed)})");
        }
    }

    private string Name(string field) => path + field;

    private JsonElement? Field(string field) =>
        element.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public string String(string field)
    {
        var s = OptionalString(field) ?? throw new DecodeException(DecodeReasons.MissingField, $"required field '{Name(field)}' is missing");
        if (s.Length == 0) throw new DecodeException(DecodeReasons.InvalidValue, $"'{Name(field)}' must not be empty");
        return s;
    }

    public string? OptionalString(string field) => Field(field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        _ => throw new DecodeException(DecodeReasons.WrongType, $"'{Name(field)}' must be a string"),
    };

    public IReadOnlyList<string>? OptionalStrings(string field) => Field(field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Array } v when v.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String) =>
            [.. v.EnumerateArray().Select(e => e.GetString()!)],
        _ => throw new DecodeException(DecodeReasons.WrongType, $"'{Name(field)}' must be a list of strings"),
    };

    public bool? OptionalBool(string field) => Field(field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => throw new DecodeException(DecodeReasons.WrongType, $"'{Name(field)}' must be true or false"),
    };

    public long? OptionalLong(string field) => Field(field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when v.TryGetInt64(out var l) => l,
        _ => throw new DecodeException(DecodeReasons.WrongType, $"'{Name(field)}' must be a whole number"),
    };

    public double? OptionalDouble(string field) => Field(field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v => v.GetDouble(),
        _ => throw new DecodeException(DecodeReasons.WrongType, $"'{Name(field)}' must be a number"),
    };

    /// <summary>ISO-8601 with an offset, or epoch milliseconds.</summary>
    public DateTimeOffset Instant(string field) =>
        OptionalInstant(field) ?? throw new DecodeException(DecodeReasons.MissingField, $"required field '{Name(field)}' is missing");

    public DateTimeOffset? OptionalInstant(string field)
    {
        switch (Field(field))
        {
            case null:
                return null;
            case { ValueKind: JsonValueKind.Number } n when n.TryGetInt64(out var ms):
                if (ms is < -62135596800000 or > 253402300799999)
                    throw new DecodeException(DecodeReasons.InvalidValue, $"'{Name(field)}' epoch milliseconds out of range");
                return DateTimeOffset.FromUnixTimeMilliseconds(ms);
            case { ValueKind: JsonValueKind.String } s when Timestamps.TryParseInstant(s.GetString()!, out var t):
                return t;
            case { ValueKind: JsonValueKind.String } s:
                throw new DecodeException(DecodeReasons.InvalidValue, $"'{Name(field)}' '{Truncate(s.GetString()!)}': {Timestamps.WhyNotInstant(s.GetString()!)}");
            default:
                throw new DecodeException(DecodeReasons.WrongType, $"'{Name(field)}' must be an ISO-8601 string or epoch milliseconds");
        }
    }

    public IReadOnlyDictionary<string, object?> Props(string field)
    {
        var v = Field(field);
        if (v is null) return Core.Props.Empty;
        if (v.Value.ValueKind != JsonValueKind.Object)
            throw new DecodeException(DecodeReasons.WrongType, $"'{Name(field)}' must be an object");
        var map = new Dictionary<string, object?>();
        foreach (var p in v.Value.EnumerateObject())
        {
            map[p.Name] = p.Value.ValueKind switch
            {
                JsonValueKind.String => p.Value.GetString(),
                JsonValueKind.Number => p.Value.TryGetInt64(out var l) ? (object)l : p.Value.GetDouble(),
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.Null => null,
                _ => throw new DecodeException(DecodeReasons.WrongType, $"'{Name(field)}.{p.Name}' must be a string, number, boolean or null"),
            };
        }
        return map;
    }

    public JsonFields Object(string field) => Field(field) switch
    {
        null => throw new DecodeException(DecodeReasons.MissingField, $"required field '{Name(field)}' is missing"),
        { ValueKind: JsonValueKind.Object } v => new JsonFields(v, $"{Name(field)}."),
        _ => throw new DecodeException(DecodeReasons.WrongType, $"'{Name(field)}' must be an object"),
    };

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
