using System.Collections.Concurrent;
using System.Text.Json;
using Streams.Core;
using Streams.Counters;

namespace Streams.Dispatcher.Providers;

/// <summary>
/// The default provider: appends one JSON line per message to the outbox file and reports <c>delivered</c> about a
/// second later (the dispatcher's pending reports carry that, so the report survives a crash). However many
/// dispatchers use it, it behaves as one provider: its index of the request ids it took lives in the counter store,
/// so a request is taken (and written to the outbox) once, and "was this sent?" has a truthful answer.
/// </summary>
public sealed class SandboxProvider : ISmsProvider
{
    public const string TypeName = "sandbox";
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly TimeSpan KeepIndex = TimeSpan.FromDays(7);

    private readonly string _outbox;
    private readonly TimeProvider _time;
    private readonly ICounterStore? _index;
    private readonly ConcurrentDictionary<string, string> _local = new();
    // Several sandboxes (dispatchers, in one process or several) may share one outbox. .NET's append mode is not
    // O_APPEND on Unix (it seeks to the end when the file is opened), so two writers could land on the same offset
    // and one line would be lost: each line is written under one lock per file within a process and an exclusive
    // lock on outbox.jsonl.lock across processes, and the file is opened (found its end) only under them.
    private static readonly ConcurrentDictionary<string, object> FileLocks = new();
    private readonly object _fileLock;

    /// <param name="index">The shared index of request ids taken; without one (a one-off test send) the index is this object's.</param>
    public SandboxProvider(string name, string outbox, TimeProvider time, ICounterStore? index = null, TimeSpan? deliveryDelay = null)
    {
        Name = name;
        _outbox = outbox;
        _time = time;
        _index = index;
        DeliversAfter = deliveryDelay ?? TimeSpan.FromSeconds(1);
        _fileLock = FileLocks.GetOrAdd(Path.GetFullPath(outbox), _ => new object());
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outbox))!);
    }

    public string Name { get; }
    public bool CanFind => true;
    public TimeSpan? DeliversAfter { get; }

    public sealed record OutboxLine(
        DateTimeOffset At, string CampaignId, string RequestId, string UserId, string To, string? From, string Text,
        string Encoding, int Segments, string MessageId);

    public static OutboxLine? TryRead(string line)
    {
        try { return JsonSerializer.Deserialize<OutboxLine>(line, Json); }
        catch (JsonException) { return null; }
    }

    public static string MessageId(string requestId) => "sbx-" + requestId;

    public async Task<SendOutcome> SendAsync(OutboundSms sms, CancellationToken ct)
    {
        var messageId = MessageId(sms.Request.RequestId);
        // Taken once: a request id the sandbox already holds is answered with its message id and not written again.
        var before = _index is null
            ? (_local.TryAdd(sms.Request.RequestId, messageId) ? null : messageId)
            : await _index.RememberOnceAsync(IndexKey(sms.Request.RequestId), messageId, KeepIndex);
        var line = new OutboxLine(_time.GetUtcNow(), sms.Request.CampaignId, sms.Request.RequestId, sms.Request.UserId,
            sms.To, sms.From, sms.Text, sms.Info.Encoding, sms.Info.Segments, messageId);
        var bytes = System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(line, Json) + "\n");
        lock (_fileLock)
        {
            using var across = LockAcrossProcesses(_outbox + ".lock");
            // Taken before but not in the outbox: the attempt that took it stopped between the index and the file (a
            // counter-store timeout whose write had landed, a crash), so the line is written now, once.
            if (before is null || !Holds(sms.Request.RequestId))
            {
                using var file = new FileStream(_outbox, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                file.Write(bytes);
            }
        }
        return new Accepted(before ?? messageId);
    }

    /// <summary>Whether the outbox has a line for this request (read only for a request the index says was taken).</summary>
    private bool Holds(string requestId)
    {
        if (!File.Exists(_outbox)) return false;
        var needle = $"\"request_id\":{JsonSerializer.Serialize(requestId, Json)}";
        using var reader = new StreamReader(new FileStream(_outbox, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
        while (reader.ReadLine() is { } text)
        {
            if (text.Contains(needle, StringComparison.Ordinal)) return true;
        }
        return false;
    }

    /// <summary>An exclusive lock on a file, shared by every process that opens it this way (flock on Unix).</summary>
    private static FileStream LockAcrossProcesses(string path)
    {
        for (var wait = 1; ; wait = Math.Min(wait * 2, 20))
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                Thread.Sleep(wait); // another writer holds it for one line's write
            }
        }
    }

    public async Task<string?> FindAsync(string requestId, CancellationToken ct) =>
        _index is null ? _local.GetValueOrDefault(requestId) : await _index.RecallAsync(IndexKey(requestId));

    private static string IndexKey(string requestId) => "sandbox:" + requestId;
}
