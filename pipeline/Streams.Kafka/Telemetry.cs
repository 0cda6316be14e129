using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Confluent.Kafka;

namespace Streams.Kafka;

/// <summary>
/// The pipeline's metrics (System.Diagnostics.Metrics; exported by OpenTelemetry's Prometheus exporter on /metrics and
/// by OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set) and traces (ActivitySource). A trace follows one SMS across
/// processes through the W3C <c>traceparent</c> header its records carry: event → request → result.
/// </summary>
public static class Telemetry
{
    public const string Name = "Streams";
    public const string TraceParentHeader = "traceparent";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> DispatcherResults =
        Meter.CreateCounter<long>("streams_dispatcher_results", description: "Results this process's dispatcher produced, by status.");

    public static readonly Histogram<double> BatchDuration =
        Meter.CreateHistogram<double>("streams_batch_duration", unit: "s", description: "How long a consumer took to handle a polled batch, by consumer.");

    public static readonly Histogram<double> ProviderCallDuration =
        Meter.CreateHistogram<double>("streams_provider_call_duration", unit: "s", description: "How long a call to a provider took, by provider and outcome.");

    public static string? TraceParent(Headers? headers) =>
        headers is not null && headers.TryGetLastBytes(TraceParentHeader, out var value) ? Encoding.ASCII.GetString(value) : null;

    public static Headers? WithTraceParent(Headers? headers, string? traceParent)
    {
        if (traceParent is null) return headers;
        headers ??= [];
        headers.Remove(TraceParentHeader);
        headers.Add(TraceParentHeader, Encoding.ASCII.GetBytes(traceParent));
        return headers;
    }

    /// <summary>A span for work on a record, a child of the trace the record carries; null when nobody records spans.</summary>
    public static Activity? Start(string name, string? traceParent, ActivityKind kind = ActivityKind.Consumer) =>
        ActivityContext.TryParse(traceParent, null, out var parent)
            ? Source.StartActivity(name, kind, parent)
            : Source.StartActivity(name, kind);

    /// <summary>What a record produced from this work carries on: this span when one is recorded, else the trace that
    /// came in (a process that records nothing does not break the trace).</summary>
    public static string? Carry(Activity? activity, string? incoming) =>
        activity is { IdFormat: ActivityIdFormat.W3C, Id: { } id } ? id : incoming;
}
