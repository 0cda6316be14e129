using Streams.Core;

namespace Streams.Dispatcher.Providers;

public sealed record OutboundSms(SmsRequest Request, string To, string? From, string Text, SmsInfo Info);

public abstract record SendOutcome;
public sealed record Accepted(string MessageId) : SendOutcome;
public sealed record Refused(string Reason, bool Final) : SendOutcome;

/// <summary>Delivery reports (DLRs) flow back through this; the pipeline writes them to sms.results.</summary>
public interface IDeliveryReports
{
    Task ReportAsync(SmsResult result);
}

public interface ISmsProvider
{
    string Name { get; }

    Task<SendOutcome> SendAsync(OutboundSms sms, CancellationToken ct);

    /// <summary>
    /// Whether the provider already holds a message with this client reference (our request id):
    /// closes the crash window between a send and the record of it. Null when the provider cannot tell.
    /// </summary>
    Task<string?> FindAsync(string requestId, CancellationToken ct);

    /// <summary>After a restart: make sure a report still comes for a message sent before the crash.</summary>
    Task ResumeAsync(SmsRequest request, string messageId, CancellationToken ct);
}
