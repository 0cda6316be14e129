using Avro;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using Streams.Core;
using Streams.Tests;

namespace Streams.Kafka.Tests;

/// <summary>
/// The Confluent wire format against a loopback server speaking the Schema Registry's REST API, written and read by
/// Confluent's own serializer and deserializer (Confluent.SchemaRegistry.Serdes.Avro) on the other side.
/// </summary>
public sealed class SchemaRegistryTests : IAsyncLifetime
{
    private FakeSchemaRegistry _registry = null!;

    // Another team's producer on a newer UserEvent: a field this pipeline does not know, placed first, so a body read
    // with the pipeline's own schema would be misread.
    private const string NewerUserEvent = """
        {"type": "record", "name": "UserEvent", "namespace": "streams", "fields": [
          {"name": "app", "type": "string", "default": ""},
          {"name": "user_id", "type": "string"},
          {"name": "name", "type": "string"},
          {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
          {"name": "props", "type": {"type": "map", "values": ["null", "boolean", "long", "double", "string"]}, "default": {}}
        ]}
        """;

    public async Task InitializeAsync() => _registry = await FakeSchemaRegistry.StartAsync();

    public async Task DisposeAsync() => await _registry.DisposeAsync();

    private async Task<byte[]> ProduceWithConfluentSerializer(string topic, string schema, Action<GenericRecord> fill, string? userInfo = null)
    {
        using var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig
        {
            Url = _registry.Url,
            BasicAuthCredentialsSource = userInfo is null ? null : AuthCredentialsSource.UserInfo,
            BasicAuthUserInfo = userInfo,
        });
        var record = new GenericRecord((RecordSchema)Avro.Schema.Parse(schema));
        fill(record);
        return await new AvroSerializer<GenericRecord>(client).SerializeAsync(record, new SerializationContext(MessageComponentType.Value, topic));
    }

    private Task<byte[]> NewerEvent(string userId, string? userInfo = null) => ProduceWithConfluentSerializer("sms.events", NewerUserEvent, r =>
    {
        r.Add("app", "ios-7.2");
        r.Add("user_id", userId);
        r.Add("name", "Added To Cart");
        r.Add("ts", new DateTime(2026, 12, 1, 10, 0, 0, DateTimeKind.Utc));
        r.Add("props", new Dictionary<string, object> { ["value"] = 799L });
    }, userInfo);

    private SchemaRegistryWire Wire(bool write = false, string? username = null, string? password = null, TimeSpan? giveUp = null) =>
        new(new CachedSchemaRegistryClient(new SchemaRegistryConfig
        {
            Url = _registry.Url,
            BasicAuthCredentialsSource = username is null ? null : AuthCredentialsSource.UserInfo,
            BasicAuthUserInfo = username is null ? null : $"{username}:{password}",
        }), write, giveUp);

    [Fact]
    public async Task An_input_in_the_wire_format_is_read_with_the_writer_schema_its_id_names()
    {
        var bytes = await NewerEvent("u1");
        Assert.Equal(["sms.events-value"], _registry.Subjects());
        using var wire = Wire();
        var ev = new Topics("sms.", wire).Events.TryDecode(bytes);
        Assert.True(ev.Ok, ev.Error?.Message);
        Assert.Equal(("u1", "Added To Cart", new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero), 799L),
            (ev.Value!.UserId, ev.Value.Name, ev.Value.Ts, ev.Value.Props["value"]));
        // Without the registry the body is read with the pipeline's own schema, which is not what wrote it.
        Assert.False(Topics.Default.Events.TryDecode(bytes) is { Ok: true, Value.UserId: "u1", Value.Name: "Added To Cart" });
    }

    [Fact]
    public async Task A_writer_schema_is_fetched_once_however_many_records_name_it()
    {
        var bytes = await NewerEvent("u1");
        using var wire = Wire();
        var topic = new Topics("sms.", wire).Events;
        for (var i = 0; i < 100; i++) Assert.True(topic.TryDecode(bytes).Ok);
        Assert.Equal(1, Assert.Single(_registry.Fetches).Value);
    }

    [Fact]
    public void An_id_the_registry_does_not_have_is_the_records_fault()
    {
        using var wire = Wire();
        var decoded = new Topics("sms.", wire).Events.TryDecode([0, 0, 0, 0, 42, 2, 0x75, 0x31]);
        Assert.Equal((DecodeReasons.UnknownSchema, "schema id 42 is not in the schema registry"), (decoded.Error!.Reason, decoded.Error.Message));
    }

    [Fact]
    public async Task A_writer_schema_the_pipeline_cannot_read_is_the_records_fault()
    {
        var bytes = await ProduceWithConfluentSerializer("other", """{"type": "record", "name": "UserEvent", "namespace": "streams", "fields": [{"name": "user_id", "type": "long"}]}""",
            r => r.Add("user_id", 7L));
        using var wire = Wire();
        var decoded = new Topics("sms.", wire).Events.TryDecode(bytes);
        Assert.Equal(DecodeReasons.UnknownSchema, decoded.Error!.Reason);
        Assert.Contains("cannot be read as streams.UserEvent", decoded.Error.Message);
    }

    [Fact]
    public async Task A_writer_schema_with_a_plain_long_timestamp_is_read_as_epoch_milliseconds()
    {
        var bytes = await ProduceWithConfluentSerializer("sms.events", """
            {"type": "record", "name": "UserEvent", "namespace": "streams", "fields": [
              {"name": "user_id", "type": "string"}, {"name": "name", "type": "string"}, {"name": "ts", "type": "long"}]}
            """, r =>
        {
            r.Add("user_id", "u1");
            r.Add("name", "Signed Up");
            r.Add("ts", new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds());
        });
        using var wire = Wire();
        var ev = new Topics("sms.", wire).Events.TryDecode(bytes);
        Assert.True(ev.Ok, ev.Error?.Message);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero), ev.Value!.Ts);
    }

    [Fact]
    public void A_protobuf_schema_id_is_the_records_fault_not_a_stopped_reader()
    {
        var id = _registry.RegisterOther("other-value", "syntax = \"proto3\"; message E { string user_id = 1; }", "PROTOBUF");
        using var wire = Wire();
        var decoded = new Topics("sms.", wire).Events.TryDecode([0, 0, 0, 0, (byte)id, 2, 0x75, 0x31]);
        Assert.Equal((DecodeReasons.UnknownSchema, $"schema id {id} is a Protobuf schema, not Avro"), (decoded.Error!.Reason, decoded.Error.Message));
    }

    [Fact]
    public async Task A_registry_that_is_down_stops_the_reader_instead_of_dead_lettering_a_valid_record()
    {
        var bytes = await NewerEvent("u1");
        _registry.Down = true;
        using var wire = Wire(giveUp: TimeSpan.FromMilliseconds(500));
        Assert.Throws<SchemaRegistryUnavailableException>(() => new Topics("sms.", wire).Events.TryDecode(bytes));
        _registry.Down = false;
        Assert.True(new Topics("sms.", wire).Events.TryDecode(bytes).Ok);
    }

    [Fact]
    public async Task Basic_auth_is_sent_and_a_refusal_says_so()
    {
        await using var secured = await FakeSchemaRegistry.StartAsync("streams:s3cret");
        var saved = _registry;
        _registry = secured;
        try
        {
            var bytes = await NewerEvent("u1", "streams:s3cret");
            using (var wire = Wire(username: "streams", password: "s3cret"))
                Assert.True(new Topics("sms.", wire).Events.TryDecode(bytes).Ok);
            using var wrong = Wire(username: "streams", password: "wrong");
            var e = Assert.Throws<SchemaRegistryUnavailableException>(() => new Topics("sms.", wrong).Events.TryDecode(bytes));
            Assert.StartsWith("schema registry refused schema id 1", e.Message);
        }
        finally
        {
            _registry = saved;
        }
    }

    [Fact]
    public async Task Outputs_in_the_wire_format_are_registered_under_the_topic_name_and_read_by_confluents_deserializer()
    {
        using var wire = Wire(write: true);
        var topics = new Topics("sms.", wire);
        var result = new SmsResult("r1", "m-1", "c1", "u1", ResultStatus.Delivered, null, "sandbox", 1, "GSM-7", new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
        var bytes = topics.Results.Encode(result);
        Assert.Equal(["sms.results-value"], _registry.Subjects());
        Assert.Equal(0, bytes[0]);

        using var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = _registry.Url });
        var read = await new AvroDeserializer<GenericRecord>(client).DeserializeAsync(bytes, false, new SerializationContext(MessageComponentType.Value, "sms.results"));
        Assert.Equal(("r1", "u1"), ((string)read["request_id"], (string)read["user_id"]));
        // And the pipeline reads its own wire-format records back.
        Assert.Equal(result.RequestId, topics.Results.Decode(bytes).RequestId);
    }
}
