using System.Globalization;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.State;
using Streams.Core;
using Streams.Serdes;

namespace Streams.Topologies.Timers;

/// <summary>
/// Keys are "due epoch-ms (15 digits)|request id", so the store's byte order is due order and a scan
/// stops at the first timer that is not due. The wall-clock punctuator only decides how often to look;
/// what is due is judged by the injected clock, so tests move time exactly.
/// </summary>
public sealed class TimerTransformer : ITransformer<string, ScheduledRequest, string, SmsRequest>
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _scanEvery;

    // Streamiz makes one transformer per task: first with this constructor, then with the builder's parameters.
    public TimerTransformer() : this(TimeProvider.System, TimeSpan.FromSeconds(1))
    {
    }

    public TimerTransformer(TimeProvider time, TimeSpan scanEvery)
    {
        _time = time;
        _scanEvery = scanEvery;
    }

    private ProcessorContext<string, SmsRequest> _context = null!;
    private IKeyValueStore<string, byte[]> _timers = null!;

    public static string Key(DateTimeOffset due, string requestId) =>
        DueKeys.Due(due) + "|" + requestId;

    public void Init(ProcessorContext<string, SmsRequest> context)
    {
        _context = context;
        _timers = (IKeyValueStore<string, byte[]>)context.GetStateStore(StoreNames.Timers);
        context.Schedule(_scanEvery, PunctuationType.PROCESSING_TIME, _ => FireDue());
    }

    public Record<string, SmsRequest> Process(Record<string, ScheduledRequest> record)
    {
        // The same request scheduled twice for the same time is one timer.
        _timers.Put(Key(record.Value.DueAt, record.Value.Request.RequestId), Codecs.ScheduledRequest.Encode(record.Value));
        FireDue();
        return null!;
    }

    private void FireDue()
    {
        var upTo = DueKeys.UpTo("", _time.GetUtcNow());
        var due = new List<KeyValuePair<string, byte[]>>();
        using (var range = _timers.Range("", upTo))
        {
            while (range.MoveNext()) due.Add(range.Current!.Value);
        }
        foreach (var (key, value) in due)
        {
            var scheduled = Codecs.ScheduledRequest.Decode(value, int.MaxValue);
            _context.Forward(scheduled.Request.UserId, scheduled.Request);
            _timers.Delete(key);
        }
    }

    public void Close()
    {
    }
}
