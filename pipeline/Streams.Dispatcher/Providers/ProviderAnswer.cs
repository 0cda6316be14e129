using System.Text.Json;

namespace Streams.Dispatcher.Providers;

/// <summary>Reading what an HTTP provider answered: its JSON object, when it is one.</summary>
internal static class ProviderAnswer
{
    public static JsonElement? Json(string body)
    {
        try
        {
            return JsonDocument.Parse(body).RootElement is { ValueKind: JsonValueKind.Object } o ? o : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static string? Field(JsonElement? answer, string name) =>
        answer is { } o && o.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.String or JsonValueKind.Number ? v.ToString() : null;
}
