using System.Collections.Concurrent;
using System.Net;
using Avro;
using Avro.Generic;
using Confluent.SchemaRegistry;

namespace Streams.Kafka;

/// <summary>
/// The Confluent wire format (magic byte 0, the schema id big-endian, the Avro body) backed by a Schema Registry: an
/// input's body is read with the writer schema the registry has under its id, resolved against this pipeline's schema
/// (so a producer on an older or newer compatible schema is read correctly); with <see cref="WriteOutputs"/> the
/// pipeline writes its topics in that format, under TopicNameStrategy subjects (<c>topic-value</c>). Writer schemas
/// and subject ids are fetched once and kept (the client caches too).
/// </summary>
public sealed class SchemaRegistryWire : IDisposable
{
    private readonly ISchemaRegistryClient _client;
    private readonly ConcurrentDictionary<(int Id, string Reader), GenericDatumReader<GenericRecord>> _readers = new();
    private readonly ConcurrentDictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly TimeSpan _giveUpAfter;

    public SchemaRegistryWire(ISchemaRegistryClient client, bool writeOutputs, TimeSpan? giveUpAfter = null)
    {
        _client = client;
        WriteOutputs = writeOutputs;
        _giveUpAfter = giveUpAfter ?? TimeSpan.FromSeconds(30);
    }

    public static SchemaRegistryWire Create(string url, string? username, string? password, bool writeOutputs) =>
        new(new CachedSchemaRegistryClient(new SchemaRegistryConfig
        {
            Url = url,
            BasicAuthCredentialsSource = username is null ? null : AuthCredentialsSource.UserInfo,
            BasicAuthUserInfo = username is null ? null : $"{username}:{password}",
            RequestTimeoutMs = 10000,
        }), writeOutputs);

    /// <summary>Whether the pipeline writes its topics in the wire format (otherwise Avro single-object encoding).</summary>
    public bool WriteOutputs { get; }

    public static string Subject(string topic) => topic + "-value";

    /// <summary>
    /// The reader for a body written with the registry's schema <paramref name="id"/>. An id the registry does not have,
    /// or a writer schema this pipeline cannot read, is the record's fault (<see cref="DecodeException"/>, to sms.dlq);
    /// a registry that cannot be reached is not: it is retried, and after the give-up time it throws
    /// <see cref="SchemaRegistryUnavailableException"/>, which stops the reader rather than dead-letter a valid record.
    /// </summary>
    public GenericDatumReader<GenericRecord> ReaderFor(int id, RecordSchema reader) =>
        _readers.GetOrAdd((id, reader.Fullname), key =>
        {
            var registered = Call(() => _client.GetSchemaAsync(key.Id), $"schema id {key.Id}", notFound: () =>
                new DecodeException(DecodeReasons.UnknownSchema, $"schema id {key.Id} is not in the schema registry"));
            if (registered.SchemaType != SchemaType.Avro)
                throw new DecodeException(DecodeReasons.UnknownSchema, $"schema id {key.Id} is a {registered.SchemaType} schema, not Avro");
            Avro.Schema writer;
            try
            {
                writer = Avro.Schema.Parse(registered.SchemaString);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Avro's parser throws its own and Newtonsoft's exceptions; a schema with references lands here too.
                throw new DecodeException(DecodeReasons.UnknownSchema, $"schema id {key.Id} is not an Avro schema this pipeline can parse: {e.Message}");
            }
            if (reader.CanRead(writer)) return new GenericDatumReader<GenericRecord>(writer, reader);
            // A producer may write a timestamp as a plain long (avsc, hand-written schemas): read through the
            // pipeline's schema without logical types; the codecs take a long as epoch milliseconds.
            var plain = (RecordSchema)Avro.Schema.Parse(reader.ToString().Replace(",\"logicalType\":\"timestamp-millis\"", "", StringComparison.Ordinal));
            if (plain.CanRead(writer)) return new GenericDatumReader<GenericRecord>(writer, plain);
            throw new DecodeException(DecodeReasons.UnknownSchema, $"schema id {key.Id} ({writer.Fullname}) cannot be read as {reader.Fullname}");
        });

    /// <summary>The id of <paramref name="schema"/> under the topic's subject, registered when the subject lacks it.</summary>
    public int IdFor(string topic, RecordSchema schema) =>
        _ids.GetOrAdd(Subject(topic), subject =>
            Call(() => _client.RegisterSchemaAsync(subject, new Confluent.SchemaRegistry.Schema(schema.ToString(), SchemaType.Avro)), $"subject {subject}", null));

    private T Call<T>(Func<Task<T>> call, string what, Func<Exception>? notFound)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return call().GetAwaiter().GetResult();
            }
            // 40403: the registry has no schema under that id. Any other 404 (a wrong path, a proxy) is not the record's fault.
            catch (SchemaRegistryException e) when (e.ErrorCode == 40403 && notFound is not null)
            {
                throw notFound();
            }
            catch (SchemaRegistryException e) when ((int)e.Status is >= 400 and < 500 && e.Status != HttpStatusCode.NotFound)
            {
                // Refused (bad credentials, an incompatible schema): waiting will not change the answer.
                throw new SchemaRegistryUnavailableException($"schema registry refused {what}: {e.Message}", e);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or SchemaRegistryException)
            {
                if (waited.Elapsed > _giveUpAfter)
                    throw new SchemaRegistryUnavailableException($"schema registry unreachable for {what} for {_giveUpAfter.TotalSeconds:N0} s: {e.Message}", e);
                Thread.Sleep(delay);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    public void Dispose() => _client.Dispose();
}

/// <summary>The registry could not be asked (down, or refusing this client): not the record's fault, so not a dead letter.</summary>
public sealed class SchemaRegistryUnavailableException(string message, Exception inner) : Exception(message, inner);
