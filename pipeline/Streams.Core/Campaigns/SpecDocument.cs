using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Streams.Core.Campaigns;

/// <summary>
/// YAML and JSON both become one JSON tree, so one reader validates both; YAML positions are
/// kept beside the tree so problems can point at a line.
/// </summary>
public sealed class SpecDocument
{
    private readonly Dictionary<JsonNode, (int Line, int Column)> _positions = new(ReferenceEqualityComparer.Instance);

    public JsonNode? Root { get; private set; }

    public (int Line, int Column)? PositionOf(JsonNode? node) =>
        node is not null && _positions.TryGetValue(node, out var p) ? p : null;

    public static SpecDocument Load(string text)
    {
        var doc = new SpecDocument();
        var trimmed = text.TrimStart();
        if (trimmed.StartsWith('{') || trimmed.StartsWith('['))
        {
            try
            {
                doc.Root = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            }
            catch (JsonException e)
            {
                throw new SpecSyntaxException($"invalid JSON: {e.Message}", (int?)(e.LineNumber + 1), (int?)(e.BytePositionInLine + 1));
            }
            return doc;
        }
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new SpecSyntaxException($"invalid YAML: {e.InnerException?.Message ?? e.Message}", (int)e.Start.Line, (int)e.Start.Column);
        }
        if (stream.Documents.Count == 0) throw new SpecSyntaxException("the spec is empty", null, null);
        if (stream.Documents.Count > 1) throw new SpecSyntaxException("one campaign per file: found several YAML documents", null, null);
        doc.Root = doc.Convert(stream.Documents[0].RootNode);
        return doc;
    }

    private JsonNode? Convert(YamlNode node)
    {
        JsonNode? result;
        switch (node)
        {
            case YamlMappingNode map:
                var obj = new JsonObject();
                foreach (var (k, v) in map.Children)
                {
                    var key = (k as YamlScalarNode)?.Value ?? k.ToString();
                    if (obj.ContainsKey(key))
                        throw new SpecSyntaxException($"duplicate key '{key}'", (int)k.Start.Line, (int)k.Start.Column);
                    obj[key] = Convert(v);
                }
                result = obj;
                break;
            case YamlSequenceNode seq:
                var arr = new JsonArray();
                foreach (var item in seq.Children) arr.Add(Convert(item));
                result = arr;
                break;
            case YamlScalarNode scalar:
                result = Scalar(scalar);
                break;
            default:
                throw new SpecSyntaxException("YAML aliases and tags are not supported in a spec", (int)node.Start.Line, (int)node.Start.Column);
        }
        if (result is not null) _positions[result] = ((int)node.Start.Line, (int)node.Start.Column);
        return result;
    }

    // YAML 1.2 core schema for plain scalars; quoted scalars are always strings.
    private static JsonNode? Scalar(YamlScalarNode s)
    {
        var v = s.Value ?? "";
        if (s.Style != ScalarStyle.Plain) return JsonValue.Create(v);
        switch (v)
        {
            case "" or "~" or "null" or "Null" or "NULL": return null;
            case "true" or "True" or "TRUE": return JsonValue.Create(true);
            case "false" or "False" or "FALSE": return JsonValue.Create(false);
        }
        if (long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return JsonValue.Create(l);
        if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && char.IsDigit(v[^1])) return JsonValue.Create(d);
        return JsonValue.Create(v);
    }
}

public sealed class SpecSyntaxException(string message, int? line, int? column) : Exception(message)
{
    public int? Line { get; } = line;
    public int? Column { get; } = column;
}
