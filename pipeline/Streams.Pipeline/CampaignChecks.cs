using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Dispatcher.Providers;

namespace Streams.Pipeline;

/// <summary>
/// What a campaign needs from the configuration to send at all: a configured provider (or group) and a sender
/// that provider accepts. apply refuses a campaign that fails them; validate warns; simulate refuses like apply.
/// </summary>
public static class CampaignChecks
{
    public static IReadOnlyList<SpecProblem> AgainstConfiguration(CampaignSpec spec, StreamsOptions options)
    {
        var problems = new List<SpecProblem>();
        var names = ProviderFactory.Names(options).ToList();
        var provider = spec.What.Provider;
        if (!names.Contains(provider))
        {
            problems.Add(new SpecProblem("what.provider", $"no provider or group named '{provider}' is configured (configured: {string.Join(", ", names.Order(StringComparer.Ordinal))})"));
        }
        else if (spec.What.MessagingService is { } service)
        {
            // A Messaging Service is Twilio's: every provider the campaign may send through must be Twilio.
            foreach (var member in Members(options, provider))
            {
                if (options.Providers.GetValueOrDefault(member)?.Type is not "twilio")
                    problems.Add(new SpecProblem("what.messaging_service", $"provider '{member}' is not twilio: a Messaging Service ({service}) is Twilio's"));
            }
            if (!service.StartsWith("MG", StringComparison.Ordinal) || service.Length != 34)
                problems.Add(new SpecProblem("what.messaging_service", $"'{service}' is not a Twilio Messaging Service SID (MG followed by 32 hex digits)"));
        }
        else if (spec.What.From is null)
        {
            foreach (var member in Members(options, provider))
            {
                var o = options.Providers.GetValueOrDefault(member);
                if (o is null || o.From is not null || !NeedsSender(o)) continue;
                problems.Add(new SpecProblem("what.from",
                    $"provider '{member}' ({o.Type}) has no default sender{(o.Type == "twilio" ? " (from or messaging_service_sid)" : " (from)")}: give what.from"));
            }
        }
        if (spec.What.From is { } from && Senders.Problem(from) is { } why)
            problems.Add(new SpecProblem("what.from", $"'{from}' {why}"));
        return problems;
    }

    /// <summary>The concrete providers a name sends through: itself, or a group's members.</summary>
    private static IEnumerable<string> Members(StreamsOptions options, string name) =>
        options.Providers.GetValueOrDefault(name) is { Type: "group" } group ? group.Members : [name];

    private static bool NeedsSender(ProviderOptions o) => ProviderKind.All.TryGetValue(o.Type, out var kind) && kind.NeedsSender(o);
}
