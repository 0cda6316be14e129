using Confluent.Kafka;
using Streams.Core;
using Streams.Kafka;

namespace Streams.Dispatcher;

/// <summary>
/// The one writer of sms.results: the dispatcher's outcomes, delivery reports and HELP replies all go through it,
/// keyed by the result's user so that one user's results stay in order. Returns once Kafka has the result.
/// </summary>
public sealed class ResultWriter(IProducer<string, byte[]> producer, Topics topics)
{
    /// <param name="traceParent">The trace the result belongs to (W3C traceparent), carried as a header.</param>
    public Task WriteAsync(SmsResult result, CancellationToken ct = default, string? traceParent = null) =>
        producer.ProduceAsync(topics.Results, topics.Results.Message(result.UserId, result, Telemetry.WithTraceParent(null, traceParent)), ct);
}
