using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Confluent.Kafka;
using Streams.Core;
using Streams.Kafka;

namespace Streams.Pipeline.Tests;

/// <summary>Listeners are process-wide: these tests run alone, so what they hear is their own pipeline's.</summary>
[CollectionDefinition(nameof(TelemetryTests), DisableParallelization = true)]
public sealed class TelemetryCollection;

/// <summary>Traces follow one SMS from the product's event to its result; the pipeline's meters record its work.</summary>
[Collection(nameof(TelemetryTests))]
public sealed class TelemetryTests : IDisposable
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    private readonly PipelineFixture _f = new();

    private async Task<(EmbeddedKafka Kafka, StreamsOptions Options, PipelineHost Host)> StartAsync(string name)
    {
        var options = new StreamsOptions { StateDir = _f.StateDir };
        var kafka = PipelineFixture.Kafka(options);
        await _f.Campaigns(options).ApplyAsync("""
            id: ping
            name: ping
            type: live
            who: {trigger: {event: Ping}}
            what: {provider: sandbox, text: "Pong"}
            """);
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, options.Topics.Profiles,
            ("u1", """{"user_id":"u1","ts":"2026-11-01T08:00:00Z","phone":"+919876543210"}"""));
        return (kafka, options, await _f.StartAsync(options, name, ["ping"], ["u1"]));
    }

    private static async Task ProduceEventAsync(string bootstrap, Topics topics, string? traceParent)
    {
        using var producer = KafkaClients.Producer(bootstrap);
        var headers = new Headers();
        if (traceParent is not null) headers.Add(Telemetry.TraceParentHeader, Encoding.ASCII.GetBytes(traceParent));
        await producer.ProduceAsync(topics.Events, new Message<string, byte[]>
        {
            Key = "u1",
            Value = Encoding.UTF8.GetBytes("""{"user_id":"u1","name":"Ping","ts":"2026-12-01T10:00:00Z"}"""),
            Headers = headers,
        });
    }

    private static string? TraceIdOf(ConsumeResult<string, byte[]> record) =>
        Telemetry.TraceParent(record.Message.Headers) is { } tp && ActivityContext.TryParse(tp, null, out var context) ? context.TraceId.ToHexString() : null;

    [Fact]
    public async Task The_event_trace_reaches_the_request_and_the_result_with_a_dispatch_span_in_it()
    {
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Telemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => { lock (spans) spans.Add(activity); },
        };
        ActivitySource.AddActivityListener(listener);
        var (kafka, options, host) = await StartAsync("trace");
        using (kafka)
        await using (host)
        {
            await ProduceEventAsync(kafka.Bootstrap, options.Topics, $"00-{TraceId}-00f067aa0ba902b7-01");

            var sent = await PipelineFixture.Eventually(() => Task.FromResult(PipelineFixture.ReadAll(kafka.Bootstrap, options.Topics.Results)
                .Where(r => options.Topics.Results.Decode(r.Message.Value).Status == ResultStatus.Sent).ToList()), r => r.Count >= 1);
            Assert.Equal(TraceId, TraceIdOf(Assert.Single(PipelineFixture.ReadAll(kafka.Bootstrap, options.Topics.Requests))));
            Assert.Equal(TraceId, TraceIdOf(Assert.Single(sent)));
            var dispatch = await PipelineFixture.Eventually(() => Task.FromResult(spans.ToList()), s => s.Any(a => a.OperationName == "sms dispatch"));
            var span = dispatch.First(a => a.OperationName == "sms dispatch");
            Assert.Equal((TraceId, "00f067aa0ba902b7", "sent"), (span.TraceId.ToHexString(), span.ParentSpanId.ToHexString(), span.GetTagItem("sms.status")));
            // The result names the dispatch span as its parent, so a trace view shows the result under the dispatch.
            Assert.Equal($"00-{TraceId}-{span.SpanId.ToHexString()}-01", Telemetry.TraceParent(sent[0].Message.Headers));
        }
    }

    [Fact]
    public async Task The_pipeline_records_batch_and_provider_latency_results_and_consumer_lag()
    {
        var measured = new List<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == Telemetry.Name) l.EnableMeasurementEvents(instrument); },
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags) copy[tag.Key] = tag.Value;
            lock (measured) measured.Add((instrument.Name, value, copy));
        }
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.Start();
        var (kafka, options, host) = await StartAsync("meters");
        using (kafka)
        await using (host)
        {
            await ProduceEventAsync(kafka.Bootstrap, options.Topics, traceParent: null);
            // Counted once Kafka has the result, so a little after a reader can see it.
            await PipelineFixture.Eventually(() => { lock (measured) return Task.FromResult(measured.ToList()); },
                s => s.Any(m => m.Instrument == "streams_dispatcher_results" && (string?)m.Tags["status"] == ResultStatus.Sent));
            listener.RecordObservableInstruments();

            List<(string Instrument, double Value, Dictionary<string, object?> Tags)> seen;
            lock (measured) seen = [.. measured];
            Assert.Contains(seen, m => m.Instrument == "streams_provider_call_duration" && (string?)m.Tags["provider"] == "sandbox"
                && (string?)m.Tags["outcome"] == "accepted" && m.Value >= 0);
            Assert.Contains(seen, m => m.Instrument == "streams_batch_duration" && (string?)m.Tags["consumer"] == "dispatcher");
            Assert.Contains(seen, m => m.Instrument == "streams_consumer_lag" && (string?)m.Tags["group"] == "streams-dispatcher"
                && (string?)m.Tags["topic"] == options.Topics.Requests.Name);
        }
    }

    public void Dispose() => _f.Dispose();
}
