using PhoneNumbers;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Core.Templates;

namespace Streams.Dispatcher;

public abstract record Decision;
public sealed record Send(string To, string? From, string Text, SmsInfo Info, string Provider) : Decision;
public sealed record Suppress(string Reason, string Detail) : Decision;

/// <summary>
/// What to do with one request: a pure function of the request, the campaign as the dispatcher
/// last saw it, and now. Loading state and calling providers happen around it, never inside.
/// Checks run in the order of PRODUCT.md's delivery semantics; the skeleton has the checks whose
/// inputs exist so far (caps, limits, DND and sampling arrive with their issues).
/// </summary>
public static class SendDecision
{
    private static readonly PhoneNumberUtil Phones = PhoneNumberUtil.GetInstance();

    public static Decision Decide(SmsRequest request, CampaignRecord? campaign, CampaignSpec? spec, DateTimeOffset now)
    {
        if (campaign is null || spec is null)
            return new Suppress(Reasons.CampaignInactive, "campaign unknown to this dispatcher");
        if (campaign.Status != CampaignStatus.Active)
            return new Suppress(Reasons.CampaignInactive, $"campaign is {campaign.Status.ToString().ToLowerInvariant()}");
        if (spec.When?.End is { } end && now >= end)
            return new Suppress(Reasons.CampaignInactive, "campaign ended");
        if (request.Context.SmsOptIn is false)
            return new Suppress(Reasons.OptedOut, "profile sms_opt_in is false");
        if (NormalizePhone(request.Context.Phone) is not { } to)
            return new Suppress(Reasons.InvalidPhone, request.Context.Phone is null ? "profile has no phone" : "not a valid E.164 number");

        var rendered = Template.Render(spec.What.Text, new TemplateValues(
            request.Context.ProfileProps,
            request.Context.EventProps,
            new Dictionary<string, object?> { ["id"] = spec.Id, ["name"] = spec.Name }));
        if (!rendered.Ok) return new Suppress(Reasons.RenderFailed, $"missing {rendered.Missing} and no default");

        return new Send(to, spec.What.From, rendered.Text!, SmsEncoding.Analyze(rendered.Text!), spec.What.Provider);
    }

    /// <summary>E.164 when libphonenumber accepts the number as valid, else null.</summary>
    public static string? NormalizePhone(string? phone)
    {
        if (string.IsNullOrWhiteSpace(phone)) return null;
        try
        {
            var parsed = Phones.Parse(phone, null);
            return Phones.IsValidNumber(parsed) ? Phones.Format(parsed, PhoneNumberFormat.E164) : null;
        }
        catch (NumberParseException)
        {
            return null;
        }
    }
}
