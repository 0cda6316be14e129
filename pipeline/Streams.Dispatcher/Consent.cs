using Streams.Core;
using Streams.Counters;

namespace Streams.Dispatcher;

/// <summary>How consent changes reach the counter store, for the consent loop and for `streams simulate` alike.</summary>
public static class Consent
{
    /// <summary>A profile's <c>sms_opt_in</c>, when it has one, for the user; the latest change (by its own time) wins.</summary>
    public static Task ApplyAsync(ICounterStore counters, ProfileUpdate profile) =>
        profile.SmsOptIn is { } optIn ? counters.SetOptOutAsync("user:" + profile.UserId, !optIn, profile.Ts) : Task.CompletedTask;

    /// <summary>STOP-family words opt the number out, START-family words back in; returns what the message was.</summary>
    public static async Task<Keyword> ApplyAsync(ICounterStore counters, InboundMessage inbound)
    {
        var keyword = Keywords.Classify(inbound.Body);
        if (keyword is Keyword.Stop or Keyword.Start)
            await counters.SetOptOutAsync("phone:" + PhoneOf(inbound), keyword == Keyword.Stop, inbound.ReceivedAt);
        return keyword;
    }

    public static string PhoneOf(InboundMessage inbound) => Phones.Parse(inbound.From) is { } parsed ? Phones.E164(parsed) : inbound.From;
}
