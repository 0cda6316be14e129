// Produces a user's profile and one event to Streams' input topics with Confluent.Kafka, keyed by the user id (the
// pipeline requires key = user_id), as JSON or in the Confluent wire format with Confluent's Avro serializer (which
// registers the schema under the TopicNameStrategy subject <topic>-value).
//
//   streams-example-producer <bootstrap> <user_id> <phone> <event name> json
//   streams-example-producer <bootstrap> <user_id> <phone> <event name> avro <registry url> <schemas dir>
using System.Text;
using System.Text.Json;
using Avro;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;

if (args.Length < 5 || args[4] is not ("json" or "avro") || (args[4] == "avro" && args.Length < 7))
{
    Console.Error.WriteLine("usage: streams-example-producer <bootstrap> <user_id> <phone> <event name> json | avro <registry url> <schemas dir>");
    return 2;
}
var (bootstrap, userId, phone, eventName, format) = (args[0], args[1], args[2], args[3], args[4]);
var now = DateTime.UtcNow;

using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, Acks = Acks.All }).Build();
if (format == "json")
{
    var ts = now.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
    await Produce("sms.profiles", JsonSerializer.Serialize(new { user_id = userId, ts, phone }));
    await Produce("sms.events", JsonSerializer.Serialize(new { user_id = userId, name = eventName, ts }));
}
else
{
    using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = args[5] });
    var serializer = new AvroSerializer<GenericRecord>(registry);
    var profile = Record(Path.Combine(args[6], "ProfileUpdate.avsc"), ("user_id", userId), ("ts", now), ("phone", phone), ("props", new Dictionary<string, object>()));
    var ev = Record(Path.Combine(args[6], "UserEvent.avsc"), ("user_id", userId), ("name", eventName), ("ts", now), ("props", new Dictionary<string, object>()));
    await producer.ProduceAsync("sms.profiles", new Message<string, byte[]>
    {
        Key = userId, Value = await serializer.SerializeAsync(profile, new SerializationContext(MessageComponentType.Value, "sms.profiles")),
    });
    await producer.ProduceAsync("sms.events", new Message<string, byte[]>
    {
        Key = userId, Value = await serializer.SerializeAsync(ev, new SerializationContext(MessageComponentType.Value, "sms.events")),
    });
}
Console.WriteLine($"produced a profile and a {eventName} event for {userId} ({format})");
return 0;

Task Produce(string topic, string json) =>
    producer.ProduceAsync(topic, new Message<string, byte[]> { Key = userId, Value = Encoding.UTF8.GetBytes(json) });

static GenericRecord Record(string schemaFile, params (string Field, object Value)[] values)
{
    var record = new GenericRecord((RecordSchema)Avro.Schema.Parse(File.ReadAllText(schemaFile)));
    foreach (var (field, value) in values) record.Add(field, value);
    return record;
}
