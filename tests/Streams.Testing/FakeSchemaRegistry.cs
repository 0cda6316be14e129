using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Avro;

namespace Streams.Tests;

/// <summary>
/// A loopback server speaking the part of Confluent Schema Registry's documented REST API (v1) that producers,
/// consumers and <c>streams schemas register</c> use: register under a subject (<c>POST /subjects/{s}/versions</c>,
/// refused with 409 when not backward compatible with the subject's latest), schema by id (<c>GET /schemas/ids/{id}</c>),
/// lookup (<c>POST /subjects/{s}</c>), <c>GET /subjects</c>, <c>GET /subjects/{s}/versions[/latest|/{v}]</c> and
/// <c>POST /compatibility/subjects/{s}/versions/latest</c>, <c>PUT|GET /config[/{s}]</c>; errors as <c>{"error_code", "message"}</c>; optional basic auth.
/// Ids are global: the same schema (by its parsing canonical form) has one id under every subject, as in the registry.
/// </summary>
public sealed class FakeSchemaRegistry : IAsyncDisposable
{
    private readonly LoopbackServer _server;
    private readonly object _lock = new();
    private readonly List<string> _schemas = [];
    private readonly Dictionary<string, List<int>> _subjects = new(StringComparer.Ordinal);
    private readonly Dictionary<int, string> _types = [];

    /// <summary>How many times each schema id was fetched (GET /schemas/ids/{id}): the pipeline should ask once.</summary>
    public ConcurrentDictionary<int, int> Fetches { get; } = new();

    public string Url => _server.Url;
    public IEnumerable<Received> Requests => _server.Requests;

    /// <summary>"user:password" a request must carry as basic auth; null lets anyone in.</summary>
    public string? UserInfo { get; init; }

    /// <summary>While set, every request fails with 503 (a registry that is down).</summary>
    public bool Down { get; set; }

    private FakeSchemaRegistry(LoopbackServer server) => _server = server;

    public static async Task<FakeSchemaRegistry> StartAsync(string? userInfo = null)
    {
        var server = await LoopbackServer.StartAsync();
        var registry = new FakeSchemaRegistry(server) { UserInfo = userInfo };
        server.Answer = registry.Answer;
        return registry;
    }

    /// <summary>Registers a schema of another type (PROTOBUF, JSON) directly, as another team might have: the id.</summary>
    public int RegisterOther(string subject, string schema, string type)
    {
        lock (_lock)
        {
            _schemas.Add(schema);
            _types[_schemas.Count] = type;
            Versions(subject).Add(_schemas.Count);
            return _schemas.Count;
        }
    }

    /// <summary>Registers directly (as another team's producer would have): the id.</summary>
    public int Register(string subject, string schema)
    {
        lock (_lock)
        {
            var id = IdOf(schema);
            var versions = Versions(subject);
            if (!versions.Contains(id)) versions.Add(id);
            return id;
        }
    }

    public IReadOnlyList<string> Subjects()
    {
        lock (_lock) return _subjects.Keys.Order(StringComparer.Ordinal).ToList();
    }

    public string? Latest(string subject)
    {
        lock (_lock) return _subjects.TryGetValue(subject, out var v) && v.Count > 0 ? _schemas[v[^1] - 1] : null;
    }

    private int IdOf(string schema)
    {
        var canonical = SchemaNormalization.ToParsingForm(Schema.Parse(schema));
        var index = _schemas.FindIndex(s => !_types.ContainsKey(_schemas.IndexOf(s) + 1) && SchemaNormalization.ToParsingForm(Schema.Parse(s)) == canonical);
        if (index >= 0) return index + 1;
        _schemas.Add(schema);
        return _schemas.Count;
    }

    private List<int> Versions(string subject) =>
        _subjects.TryGetValue(subject, out var v) ? v : _subjects[subject] = [];

    private Reply Answer(Received r)
    {
        if (Down) return Error(503, 50003, "unavailable");
        if (UserInfo is not null && r.Authorization != "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(UserInfo)))
            return Error(401, 401, "Unauthorized");
        var path = r.PathAndQuery.Split('?')[0];
        var parts = path.Trim('/').Split('/').Select(Uri.UnescapeDataString).ToArray();
        lock (_lock)
        {
            return (r.Method, parts) switch
            {
                ("GET", ["schemas", "ids", var id]) => SchemaById(int.Parse(id, System.Globalization.CultureInfo.InvariantCulture)),
                ("GET", ["subjects"]) => Json(new JsonArray([.. _subjects.Keys.Select(k => (JsonNode)k)])),
                ("POST", ["subjects", var s, "versions"]) => RegisterRequest(s, r.Body),
                ("POST", ["subjects", var s]) => Lookup(s, r.Body),
                ("GET", ["subjects", var s, "versions"]) => _subjects.TryGetValue(s, out var v)
                    ? Json(new JsonArray([.. Enumerable.Range(1, v.Count).Select(n => (JsonNode)n)])) : Error(404, 40401, "Subject not found"),
                ("GET", ["subjects", var s, "versions", var version]) => Version(s, version),
                // Compatibility level per subject or global: kept as told (the check is always BACKWARD, the default).
                ("PUT", ["config", ..]) => Json(new JsonObject { ["compatibility"] = JsonNode.Parse(r.Body)?["compatibility"]?.GetValue<string>() ?? "BACKWARD" }),
                ("GET", ["config", ..]) => Json(new JsonObject { ["compatibilityLevel"] = "BACKWARD" }),
                ("POST", ["compatibility", "subjects", var s, "versions", _]) => Json(new JsonObject { ["is_compatible"] = Compatible(s, SchemaOf(r.Body)) }),
                _ => Error(404, 404, $"no route {r.Method} {path}"),
            };
        }
    }

    private Reply SchemaById(int id)
    {
        Fetches.AddOrUpdate(id, 1, (_, n) => n + 1);
        if (id < 1 || id > _schemas.Count) return Error(404, 40403, "Schema not found");
        // As the registry answers: schemaType only for a schema that is not Avro.
        var answer = new JsonObject { ["schema"] = _schemas[id - 1] };
        if (_types.TryGetValue(id, out var type)) answer["schemaType"] = type;
        return Json(answer);
    }

    private Reply RegisterRequest(string subject, string body)
    {
        var schema = SchemaOf(body);
        try
        {
            Schema.Parse(schema);
        }
        catch (SchemaParseException e)
        {
            return Error(422, 42201, $"Invalid schema: {e.Message}");
        }
        if (!Compatible(subject, schema)) return Error(409, 409, "Schema being registered is incompatible with an earlier schema for subject");
        return Json(new JsonObject { ["id"] = Register(subject, schema) });
    }

    private Reply Lookup(string subject, string body)
    {
        if (!_subjects.TryGetValue(subject, out var versions)) return Error(404, 40401, "Subject not found");
        var canonical = SchemaNormalization.ToParsingForm(Schema.Parse(SchemaOf(body)));
        var at = versions.FindIndex(id => SchemaNormalization.ToParsingForm(Schema.Parse(_schemas[id - 1])) == canonical);
        return at < 0 ? Error(404, 40403, "Schema not found")
            : Json(new JsonObject { ["subject"] = subject, ["id"] = versions[at], ["version"] = at + 1, ["schema"] = _schemas[versions[at] - 1] });
    }

    private Reply Version(string subject, string version)
    {
        if (!_subjects.TryGetValue(subject, out var versions) || versions.Count == 0) return Error(404, 40401, "Subject not found");
        var n = version == "latest" ? versions.Count : int.Parse(version, System.Globalization.CultureInfo.InvariantCulture);
        if (n < 1 || n > versions.Count) return Error(404, 40402, "Version not found");
        return Json(new JsonObject { ["subject"] = subject, ["id"] = versions[n - 1], ["version"] = n, ["schema"] = _schemas[versions[n - 1] - 1] });
    }

    /// <summary>BACKWARD, the registry's default: the new schema can read what the subject's latest wrote.</summary>
    private bool Compatible(string subject, string schema) =>
        !_subjects.TryGetValue(subject, out var versions) || versions.Count == 0
        || Schema.Parse(schema).CanRead(Schema.Parse(_schemas[versions[^1] - 1]));

    private static string SchemaOf(string body) =>
        JsonNode.Parse(body)?["schema"]?.GetValue<string>() ?? throw new JsonException("no schema in the request");

    private static Reply Json(JsonNode node) => new(200, node.ToJsonString());

    private static Reply Error(int status, int code, string message) =>
        new(status, new JsonObject { ["error_code"] = code, ["message"] = message }.ToJsonString());

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
