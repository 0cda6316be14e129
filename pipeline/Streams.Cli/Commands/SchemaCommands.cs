using System.CommandLine;
using Streams.Kafka;

namespace Streams.Cli.Commands;

/// <summary>`streams schemas`: the Avro schemas of schemas/ and the Schema Registry.</summary>
public static class SchemaCommands
{
    public static Command Build(TextWriter output)
    {
        var register = new Command("register",
            "Register each topic's value schema with the configured Schema Registry under its TopicNameStrategy subject (topic-value); " +
            "the registry refuses a schema not compatible with the subject's latest");
        register.SetAction((parse, ct) =>
        {
            var context = CliContext.From(parse);
            var registry = context.Options.Registry ?? throw new CliException("schemas register needs schema_registry.url in the configuration");
            foreach (var (topic, schema) in context.Options.Topics.Schemas)
                output.WriteLine($"{SchemaRegistryWire.Subject(topic)}\t{schema.Fullname}\tid {registry.IdFor(topic, schema)}");
            return Task.FromResult(0);
        });
        var list = new Command("list", "Print each topic's subject and value schema name (no registry needed)");
        list.SetAction((parse, ct) =>
        {
            var context = CliContext.From(parse);
            foreach (var (topic, schema) in context.Options.Topics.Schemas) output.WriteLine($"{SchemaRegistryWire.Subject(topic)}\t{schema.Fullname}");
            return Task.FromResult(0);
        });
        return new Command("schemas", "Avro schemas and the Schema Registry") { register, list };
    }
}
