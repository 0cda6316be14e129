using Streams.Dispatcher.Providers;

namespace Streams.Tests;

/// <summary>A provider that records every request id handed to it and answers as told (accepted, by default).</summary>
public sealed class RecordingProvider(string name = "fake", bool canFind = false) : ISmsProvider
{
    public List<string> Calls { get; } = [];
    public Func<OutboundSms, SendOutcome> Answer { get; set; } = sms => new Accepted("m-" + sms.Request.RequestId);
    public string Name => name;
    public bool CanFind => canFind;

    public Task<SendOutcome> SendAsync(OutboundSms sms, CancellationToken ct)
    {
        lock (Calls) Calls.Add(sms.Request.RequestId);
        return Task.FromResult(Answer(sms));
    }
}
