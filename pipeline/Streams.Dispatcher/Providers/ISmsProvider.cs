using Streams.Core;

namespace Streams.Dispatcher.Providers;

public sealed record OutboundSms(SmsRequest Request, string To, string? From, string Text, SmsInfo Info);

public abstract record SendOutcome;
/// <summary>Taken by the provider; <paramref name="Via"/> names the member of a failover group that took it.</summary>
public sealed record Accepted(string MessageId, string? Via = null, string? ViaKind = null) : SendOutcome;
/// <summary>
/// Nothing reached the handset. <paramref name="Reason"/> is a result reason: <c>opted_out</c> or <c>invalid_phone</c>
/// when the provider says so (the request ends suppressed with it), else <c>provider_error: ...</c> (failed).
/// <paramref name="Retryable"/>: the provider never took it and another provider may (429, gateway errors, open circuit).
/// </summary>
public sealed record Refused(string Reason, bool Final, bool Retryable = false) : SendOutcome;

/// <summary>Delivery reports (DLRs) flow back through this; the pipeline writes them to sms.results.</summary>
public interface IDeliveryReports
{
    Task ReportAsync(SmsResult result);
}

public interface ISmsProvider
{
    string Name { get; }

    /// <summary>The provider's API (sinch, twilio, ...): delivery reports name messages within it.</summary>
    string Kind => Name;

    Task<SendOutcome> SendAsync(OutboundSms sms, CancellationToken ct);

    /// <summary>A batch at once, one outcome per message in order; providers with a batch API override it.</summary>
    async Task<IReadOnlyList<SendOutcome>> SendBatchAsync(IReadOnlyList<OutboundSms> batch, CancellationToken ct) =>
        await Task.WhenAll(batch.Select(sms => SendAsync(sms, ct)));

    /// <summary>
    /// Whether <see cref="FindAsync"/> can answer. When it cannot, a request found claimed but not marked sent
    /// (a crash between claim and record) is not sent again: at most once wins over at least once.
    /// </summary>
    bool CanFind => true;

    /// <summary>
    /// Whether the provider already holds a message with this client reference (our request id):
    /// closes the crash window between a send and the record of it. Null when the provider cannot tell.
    /// </summary>
    Task<string?> FindAsync(string requestId, CancellationToken ct);

    /// <summary>After a restart: make sure a report still comes for a message sent before the crash.</summary>
    Task ResumeAsync(SmsRequest request, string messageId, CancellationToken ct);
}
