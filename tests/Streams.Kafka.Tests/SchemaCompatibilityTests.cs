using Avro;
using Streams.Tests;

namespace Streams.Kafka.Tests;

/// <summary>
/// schemas/ stays backward compatible with the last released version (schemas/released/): each schema can read what the
/// released one of the same name wrote, as the registry's BACKWARD check would require before it took the new version.
/// </summary>
public sealed class SchemaCompatibilityTests
{
    private static string Released => Directory.GetDirectories(Path.Combine(Repository.Root, "schemas", "released"))
        .OrderBy(d => Version.Parse(Path.GetFileName(d))).Last();

    private static RecordSchema ParseReleased(string name)
    {
        string Text(string n) => File.ReadAllText(Path.Combine(Released, "streams", n + ".avsc"));
        // As Schemas does: a file naming another record gets that record's definition inlined.
        return (RecordSchema)Avro.Schema.Parse(Text(name).Replace("\"streams.SmsRequest\"", Text("SmsRequest"), StringComparison.Ordinal));
    }

    public static TheoryData<string> Names() =>
        [.. Directory.GetFiles(Path.Combine(Released, "streams"), "*.avsc").Select(f => Path.GetFileNameWithoutExtension(f)).Order()];

    [Theory]
    [MemberData(nameof(Names))]
    public void Every_schema_reads_what_the_last_released_version_wrote(string name)
    {
        var current = Schemas.All.SingleOrDefault(s => s.Name == name);
        Assert.True(current is not null, $"schema {name} was released and is gone from schemas/");
        Assert.True(current.CanRead(ParseReleased(name)), $"schemas/streams/{name}.avsc cannot read what {Path.GetFileName(Released)} wrote");
    }

    [Fact]
    public void The_check_catches_a_field_added_without_a_default_and_a_type_changed()
    {
        var released = ParseReleased("UserEvent");
        var added = Schemas.UserEvent.ToString().Replace("\"fields\":[", "\"fields\":[{\"name\":\"app\",\"type\":\"string\"},", StringComparison.Ordinal);
        Assert.False(Avro.Schema.Parse(added).CanRead(released));
        var withDefault = Schemas.UserEvent.ToString().Replace("\"fields\":[", "\"fields\":[{\"name\":\"app\",\"type\":\"string\",\"default\":\"\"},", StringComparison.Ordinal);
        Assert.True(Avro.Schema.Parse(withDefault).CanRead(released));
        var retyped = Schemas.UserEvent.ToString().Replace("{\"name\":\"name\",\"type\":\"string\"}", "{\"name\":\"name\",\"type\":\"long\"}", StringComparison.Ordinal);
        Assert.NotEqual(Schemas.UserEvent.ToString(), retyped);
        Assert.False(Avro.Schema.Parse(retyped).CanRead(released));
    }
}
