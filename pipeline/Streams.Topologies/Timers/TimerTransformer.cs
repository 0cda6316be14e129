using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.State;
using Streams.Core;
using Streams.Kafka;
using Streams.Topologies.State;

namespace Streams.Topologies.Timers;

/// <summary>
/// The sms.scheduled timers, one per request and due time (the same request scheduled twice for the same time is
/// one timer). The wall-clock punctuator only decides how often to look; what is due is judged by the injected
/// clock, so tests move time exactly.
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
    private DueTimers _timers = null!;

    public void Init(ProcessorContext<string, SmsRequest> context)
    {
        _context = context;
        _timers = new DueTimers((IKeyValueStore<string, byte[]>)context.GetStateStore(StoreNames.Timers));
        context.Schedule(_scanEvery, PunctuationType.PROCESSING_TIME, _ => FireDue());
    }

    public Record<string, SmsRequest> Process(Record<string, ScheduledRequest> record)
    {
        _timers.Schedule(record.Value.Request.RequestId, record.Value.DueAt, Codecs.ScheduledRequest.Encode(record.Value));
        FireDue();
        return null!;
    }

    private void FireDue()
    {
        foreach (var (_, _, value) in _timers.TakeDue(_time.GetUtcNow()))
        {
            var scheduled = Codecs.ScheduledRequest.DecodeOwn(value);
            _context.Forward(scheduled.Request.UserId, scheduled.Request);
        }
    }

    public void Close()
    {
    }
}
