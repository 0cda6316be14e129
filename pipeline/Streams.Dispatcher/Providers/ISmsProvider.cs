using Streams.Core;

namespace Streams.Dispatcher.Providers;

/// <param name="MessagingService">The campaign's Twilio Messaging Service (what.messaging_service), sent instead of a From.</param>
public sealed record OutboundSms(SmsRequest Request, string To, string? From, string Text, SmsInfo Info, string? MessagingService = null);

public abstract record SendOutcome;
/// <summary>Taken by the provider; <paramref name="Via"/> names the member of a failover group that took it.</summary>
public sealed record Accepted(string MessageId, string? Via = null, string? ViaKind = null) : SendOutcome;
/// <summary>
/// Nothing reached the handset. <paramref name="Reason"/> is a result reason: <c>opted_out</c> or <c>invalid_phone</c>
/// when the provider says so (the request ends suppressed with it), else <c>provider_error: ...</c> (failed).
/// <paramref name="Retryable"/>: the provider never took it and another provider may (429, gateway errors, open circuit).
/// <paramref name="MayHaveBeenTaken"/>: the call went out and no clear answer came back (a timeout, a 500, a broken
/// response): the provider may have taken the message, so it is neither retried nor given back; it ends ambiguous.
/// </summary>
public sealed record Refused(string Reason, bool Final, bool Retryable = false, bool MayHaveBeenTaken = false) : SendOutcome;

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
    /// Whether <see cref="FindAsync"/> can answer, and sending a request id twice is taken once (the provider keeps
    /// its own index of client references). When it cannot, a request found claimed by an attempt that recorded no
    /// outcome is never sent again: it ends <c>ambiguous</c> (at most once wins over at least once).
    /// </summary>
    bool CanFind => false;

    /// <summary>The provider's message id for a request it already holds (our request id is its client reference), else null.</summary>
    Task<string?> FindAsync(string requestId, CancellationToken ct) => Task.FromResult<string?>(null);

    /// <summary>A provider that reports delivery itself after this long (the sandbox); real providers send delivery reports to webhooks.</summary>
    TimeSpan? DeliversAfter => null;

    /// <summary>A batch API: its pacing turn covers a whole batch, so it is sent in one call rather than a message per turn.</summary>
    bool PrefersBatches => false;
}
