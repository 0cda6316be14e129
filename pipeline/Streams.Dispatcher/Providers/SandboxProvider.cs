using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using Streams.Core;

namespace Streams.Dispatcher.Providers;

/// <summary>
/// The default provider: appends one JSON line per message to the outbox file and reports
/// `delivered` about a second later (on the injected clock). The outbox doubles as the provider's
/// memory of client references, so a restarted dispatcher can tell what was already sent.
/// </summary>
public sealed class SandboxProvider : ISmsProvider, IDisposable
{
    public const string TypeName = "sandbox";
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly string _outbox;
    private readonly TimeProvider _time;
    private readonly IDeliveryReports _reports;
    private readonly TimeSpan _deliveryDelay;
    private readonly ConcurrentDictionary<string, string> _sent = new();
    private readonly ConcurrentDictionary<string, ITimer> _pending = new();
    // Several sandboxes (dispatchers) may share one outbox: one lock per file within a process, and each
    // line is one append-mode write, which other processes' appends do not interleave with.
    private static readonly ConcurrentDictionary<string, object> FileLocks = new();
    private readonly object _fileLock;

    public SandboxProvider(string name, string outbox, TimeProvider time, IDeliveryReports reports, TimeSpan? deliveryDelay = null)
    {
        Name = name;
        _outbox = outbox;
        _time = time;
        _reports = reports;
        _deliveryDelay = deliveryDelay ?? TimeSpan.FromSeconds(1);
        _fileLock = FileLocks.GetOrAdd(Path.GetFullPath(outbox), _ => new object());
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outbox))!);
        if (File.Exists(outbox))
        {
            foreach (var line in File.ReadLines(outbox))
            {
                if (TryRead(line) is { } entry) _sent[entry.RequestId] = entry.MessageId;
            }
        }
    }

    public string Name { get; }

    public sealed record OutboxLine(
        DateTimeOffset At, string CampaignId, string RequestId, string UserId, string To, string? From, string Text,
        string Encoding, int Segments, string MessageId);

    public static OutboxLine? TryRead(string line)
    {
        try { return JsonSerializer.Deserialize<OutboxLine>(line, Json); }
        catch (JsonException) { return null; }
    }

    public Task<SendOutcome> SendAsync(OutboundSms sms, CancellationToken ct)
    {
        var messageId = "sbx-" + sms.Request.RequestId;
        lock (_fileLock)
        {
            if (!_sent.ContainsKey(sms.Request.RequestId))
            {
                var line = new OutboxLine(_time.GetUtcNow(), sms.Request.CampaignId, sms.Request.RequestId, sms.Request.UserId,
                    sms.To, sms.From, sms.Text, sms.Info.Encoding, sms.Info.Segments, messageId);
                var bytes = System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(line, Json) + "\n");
                using (var file = new FileStream(_outbox, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
                    file.Write(bytes);
                _sent[sms.Request.RequestId] = messageId;
            }
        }
        ScheduleReport(sms.Request, messageId, sms.Info);
        return Task.FromResult<SendOutcome>(new Accepted(messageId));
    }

    public Task<string?> FindAsync(string requestId, CancellationToken ct) =>
        Task.FromResult(_sent.TryGetValue(requestId, out var id) ? id : null);

    public Task ResumeAsync(SmsRequest request, string messageId, CancellationToken ct)
    {
        ScheduleReport(request, messageId, null);
        return Task.CompletedTask;
    }

    private void ScheduleReport(SmsRequest request, string messageId, SmsInfo? info)
    {
        ITimer? timer = null;
        if (!_pending.TryAdd(request.RequestId, null!)) return;
        timer = _time.CreateTimer(_ =>
        {
            _ = _reports.ReportAsync(new SmsResult(request.RequestId, messageId, request.CampaignId, request.UserId,
                ResultStatus.Delivered, null, Name, info?.Segments ?? 0, info?.Encoding, _time.GetUtcNow()));
            if (_pending.TryGetValue(request.RequestId, out var t)) t?.Dispose();
        }, null, _deliveryDelay, Timeout.InfiniteTimeSpan);
        _pending[request.RequestId] = timer;
    }

    public void Dispose()
    {
        foreach (var t in _pending.Values) t?.Dispose();
    }
}
