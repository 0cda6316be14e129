using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Counters;
using Streams.Kafka;

namespace Streams.Dispatcher;

public sealed record DispatcherOptions
{
    public required KafkaSettings Kafka { get; init; }
    public Topics Topics { get; init; } = Topics.Default;
    public string GroupId { get; init; } = "streams-dispatcher";
    public int MaxBatch { get; init; } = 500;
    public int MaxInputBytes { get; init; } = RecordCodec<SmsRequest>.DefaultMaxBytes;
}

/// <summary>
/// The consumer group over sms.requests. At-least-once: a batch's offsets are stored only after every result of the
/// batch is acknowledged by Kafka, and only up to the first request the handler did not finish (a stop came while it
/// waited for its turn); the handler makes redelivery harmless. While Redis is unreachable nothing is sent: the batch
/// waits and is tried again, with backoff, until Redis answers or the dispatcher is stopped.
/// </summary>
public sealed class DispatcherLoop(DispatcherOptions options, RequestHandler handler, IProducer<string, byte[]> producer, ResultWriter results, ILogger logger, CounterGuard? guard = null)
{
    public long Handled => Interlocked.Read(ref _handled);
    private long _handled;


    /// <param name="stop">Stop taking work (SIGTERM): the batch in hand finishes what is in flight and records it.</param>
    /// <param name="abandon">The shutdown deadline: even calls in flight give up.</param>
    public async Task RunAsync(CancellationToken stop, CancellationToken abandon)
    {
        var pipeline = new ConsumerPipeline("dispatcher", logger) { MaxBatch = options.MaxBatch }
            .DeadLetterTo(producer, options.Topics.Dlq)
            .Read(options.Topics.Requests, Undecodable.DeadLetter, options.MaxInputBytes);
        await pipeline.RunAsync(options.Kafka, options.GroupId, batch => HandleBatchAsync(batch, stop, abandon), stop);
    }

    private async Task<IReadOnlyCollection<Received>?> HandleBatchAsync(IReadOnlyList<Received> batch, CancellationToken stop, CancellationToken abandon)
    {
        // One span per request, a child of the trace its record carries; what it produces carries the trace on.
        var traces = new Dictionary<string, (Activity? Span, string? Carry)>();
        foreach (var record in batch)
        {
            var request = (SmsRequest)record.Value!;
            var incoming = Telemetry.TraceParent(record.Source.Message.Headers);
            if (traces.ContainsKey(request.RequestId)) continue;
            var span = Telemetry.Start("sms dispatch", incoming);
            span?.SetTag("sms.request_id", request.RequestId).SetTag("sms.campaign_id", request.CampaignId);
            traces[request.RequestId] = (span, Telemetry.Carry(span, incoming));
        }
        try
        {
            return await HandleTracedBatchAsync(batch, traces, stop, abandon);
        }
        finally
        {
            foreach (var (span, _) in traces.Values) span?.Dispose();
        }
    }

    private async Task<IReadOnlyCollection<Received>?> HandleTracedBatchAsync(IReadOnlyList<Received> batch, Dictionary<string, (Activity? Span, string? Carry)> traces,
        CancellationToken stop, CancellationToken abandon)
    {
        var acks = new List<Task>(batch.Count);
        Task Produce(SmsResult result)
        {
            var (span, carry) = traces.GetValueOrDefault(result.RequestId);
            span?.SetTag("sms.status", result.Status);
            return ProduceResultAsync(result, carry, abandon);
        }
        var output = await HandleUntilRedisAnswersAsync(batch.Select(r => (SmsRequest)r.Value!).ToList(), stop, abandon,
            results => Task.WhenAll(results.Select(Produce)));
        if (output is null) return batch;
        acks.AddRange(output.Results.Select(Produce));
        foreach (var record in output.Completed)
        {
            // Same version, new status: every dispatcher that sees the limit full writes the same record.
            logger.LogInformation("campaign {CampaignId} reached its reach limit: completed", record.Id);
            acks.Add(options.Topics.Campaigns.ProduceAsync(producer, record.Id, record, abandon));
        }
        foreach (var waiting in output.Delayed)
        {
            acks.Add(producer.ProduceAsync(options.Topics.Scheduled, options.Topics.Scheduled.Message(waiting.Request.UserId, waiting,
                Telemetry.WithTraceParent(null, traces.GetValueOrDefault(waiting.Request.RequestId).Carry)), abandon));
        }
        await Task.WhenAll(acks);
        if (output.CountersFailed is not null)
        {
            // The rest of the batch waits for the counters: look at them again before anything more is handed over.
            guard?.Forget();
            try { await Task.Delay(TimeSpan.FromSeconds(1), stop); }
            catch (OperationCanceledException) { }
        }
        return output.NotDone.Count == 0 ? null : batch.Where(r => output.NotDone.Contains(((SmsRequest)r.Value!).RequestId)).ToList();
    }

    private async Task ProduceResultAsync(SmsResult result, string? traceParent, CancellationToken abandon)
    {
        await results.WriteAsync(result, abandon, traceParent);
        Interlocked.Increment(ref _handled);
        Telemetry.DispatcherResults.Add(1, new KeyValuePair<string, object?>("status", result.Status));
    }

    /// <summary>Null when the dispatcher was stopped before Redis came back (nothing of the batch was done).</summary>
    private async Task<RequestHandler.Output?> HandleUntilRedisAnswersAsync(List<SmsRequest> requests, CancellationToken stop, CancellationToken abandon,
        Func<IReadOnlyList<SmsResult>, Task> emit)
    {
        var wait = TimeSpan.FromMilliseconds(250);
        var paused = System.Diagnostics.Stopwatch.StartNew();
        var said = false;
        while (true)
        {
            try
            {
                if (guard is not null) await guard.EnsureAsync(stop);
                var output = await handler.HandleBatchAsync(requests, stop, abandon, emit);
                if (said) logger.LogWarning("counters available again: sending resumed after {Seconds:0.0} s", paused.Elapsed.TotalSeconds);
                return output;
            }
            catch (Exception e) when (e is RedisUnavailableException or CountersNotReadyException or StackExchange.Redis.RedisConnectionException or StackExchange.Redis.RedisTimeoutException
                                      || (e is StackExchange.Redis.RedisServerException && e.Message.StartsWith("LOADING", StringComparison.Ordinal)))
            {
                if (!said) logger.LogWarning("counters unavailable ({Error}): sending paused; nothing is sent without a claim", e.Message);
                if (e is CountersNotReadyException) guard?.Forget();
                said = true;
                try { await Task.Delay(wait, stop); }
                catch (OperationCanceledException) { return null; }
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }
}

/// <summary>The counters cannot be trusted yet (Redis is down, or lost its data and is being rebuilt): nothing may be sent.</summary>
public sealed class RedisUnavailableException(string message) : Exception(message);

/// <summary>Delivery reports to sms.results, each (request, status) emitted once even if a report is replayed.</summary>
public sealed class ResultsReporter(ResultWriter results, Counters.ICounterStore counters) : Webhooks.IResultSink
{
    /// <summary>
    /// Stored once: a (request, status) already stored is not stored again. The mark is set only once Kafka has the
    /// result, so a process that dies in between leaves no mark and the report is stored by the next attempt (two
    /// attempts at the same instant may both store it: the result is the same). A final status ends the request's
    /// pending report.
    /// </summary>
    public async Task<bool> StoreOnceAsync(SmsResult result)
    {
        var key = $"report:{result.RequestId}:{result.Status}";
        var first = !await counters.IsMarkedAsync(key);
        if (first)
        {
            await results.WriteAsync(result);
            first = await counters.TryMarkOnceAsync(key, RequestHandler.KeepSendKeys);
            if (first) await counters.IncrementAsync(result.CampaignId, result.Status);
        }
        if (ResultStatus.Final.Contains(result.Status)) await counters.CompleteReportsAsync([result.RequestId]);
        return first;
    }
}

/// <summary>
/// Ends the requests whose delivery report is due: the sandbox's "delivered" about a second after the send, and
/// <c>expired</c> (reason no_delivery_report) for a real provider's message with no report after its report_timeout.
/// The pending reports live in the counter store, so they survive a crash of the process that sent; each is leased
/// while it is reported, and the once-marker keeps a report that is reported twice from being stored twice.
/// Due times are judged on the injected clock; the loop only polls.
/// </summary>
public sealed class ReportPump(Counters.ICounterStore counters, ResultsReporter reporter, TimeProvider time, ILogger logger)
{
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    public async Task RunAsync(CancellationToken stop)
    {
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        while (!stop.IsCancellationRequested)
        {
            try
            {
                while (await PumpOnceAsync() == 500) { }
                await tick.WaitForNextTickAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException or KafkaException)
            {
                logger.LogWarning("pending delivery reports: {Error}; trying again", e.Message);
                try { await Task.Delay(TimeSpan.FromSeconds(1), stop); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>Reports what is due now; returns how many were due.</summary>
    public async Task<int> PumpOnceAsync()
    {
        var now = time.GetUtcNow();
        var due = await counters.DueReportsAsync(now, Lease, 500);
        var stale = new List<string>();
        await Task.WhenAll(due.Select(async d =>
        {
            if (PendingReport.Parse(d.Info) is { } pending) await reporter.StoreOnceAsync(pending.ResultFor(d.RequestId, now));
            else lock (stale) stale.Add(d.RequestId);
        }));
        await counters.CompleteReportsAsync(stale);
        return due.Count;
    }
}
