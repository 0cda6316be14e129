using PhoneNumbers;
using Streams.Core;
using Streams.Core.Templates;

namespace Streams.Dispatcher;

public abstract record Decision;
/// <summary>
/// Goes to the counters. <paramref name="After"/> is a stop that ranks after the counters in the
/// documented order (dnd_discarded, render_failed, too_many_segments): reported only when the
/// counters let the request through, and then its slots are given back.
/// </summary>
public sealed record Send(string To, string? From, string Text, SmsInfo Info, string Provider, IReadOnlyList<Slot> Slots, Suppress? After = null) : Decision
{
    public string? MessagingService { get; init; }
}
public sealed record Suppress(string Reason, string Detail) : Decision;
/// <summary>Inside DND hours with action delay: the request waits in sms.scheduled until the window's end.</summary>
public sealed record Delay(DateTimeOffset Until, string Cause) : Decision;

/// <summary>
/// What to do with one request: a pure function of the request, the campaign as the dispatcher
/// last saw it, and now. Loading state and calling providers happen around it, never inside.
/// Checks run in the order of PRODUCT.md's delivery semantics; the ones whose inputs exist so far
/// (caps, limits, DND and sampling arrive with their issues).
/// </summary>
public static class SendDecision
{

    public static Decision Decide(SmsRequest request, CampaignEntry? campaign, DateTimeOffset now) =>
        Decide(request, campaign, FrequencyCaps.None, null, optedOut: false, now);

    /// <param name="defaultDnd">The configured DND hours for campaigns that set none.</param>
    /// <param name="optedOut">What the consent store says of this user or number (STOP, or a later profile opt-out).</param>
    /// <param name="globalControl">The configured global hold-out (<c>control.global_percent</c>), 0 for none.</param>
    public static Decision Decide(SmsRequest request, CampaignEntry? campaign, FrequencyCaps caps, DndWindow? defaultDnd, bool optedOut, DateTimeOffset now,
        double globalControl = 0)
    {
        if (campaign?.Spec is not { } spec || campaign.Message is not { } message)
            return new Suppress(Reasons.CampaignInactive, "campaign unknown to this dispatcher");
        if (campaign.Record.Status != CampaignStatus.Active)
            return new Suppress(Reasons.CampaignInactive, $"campaign is {campaign.Record.Status.ToString().ToLowerInvariant()}");
        if (spec.When?.End is { } end && now >= end)
            return new Suppress(Reasons.CampaignInactive, "campaign ended");
        if (spec.Who.Reach?.Percent is { } percent && !Sampled(spec.Id, request.UserId, percent))
            return new Suppress(Reasons.NotSampled, $"outside the {percent}% sample");
        if (optedOut)
            return new Suppress(Reasons.OptedOut, "opted out (STOP or profile)");
        if (request.Context.SmsOptIn is false)
            return new Suppress(Reasons.OptedOut, "profile sms_opt_in is false");
        if (Phones.Parse(request.Context.Phone) is not { } phone)
            return new Suppress(Reasons.InvalidPhone, request.Context.Phone is null ? "profile has no phone" : "not a valid E.164 number");

        var zone = Phones.UserTimeZone(request.Context.Timezone, phone, spec.When?.Timezone);
        var to = Phones.E164(phone);
        var campaignZone = Core.Schedules.Zones.Find(spec.When?.Timezone) ?? TimeZoneInfo.Utc;
        var slots = Slots.For(spec.Id, spec.Who.Reach?.Limit, spec.Who.Reach?.DailyLimit,
            spec.When?.GlobalLimits != Core.Campaigns.GlobalLimits.Ignore, caps, request.UserId, zone, campaignZone, now);

        // A DND delay is decided before the counters, so a waiting request holds no slot; it is all checked again later.
        var dnd = spec.When?.Dnd is { } d
            ? new DndWindow(d.From, d.To, d.Action == Core.Campaigns.DndAction.Discard ? DndMode.Discard : DndMode.Delay)
            : defaultDnd;
        if (dnd is not null && dnd.Contains(now, zone))
        {
            if (dnd.Mode == DndMode.Delay) return new Delay(dnd.EndAfter(now, zone), "dnd");
            var hours = $"{dnd.From.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture)}-{dnd.To.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture)}";
            return new Send(to, spec.What.From, "", new SmsInfo("", 0, 0), spec.What.Provider, slots,
                new Suppress(Reasons.DndDiscarded, $"inside DND hours {hours} ({zone.Id})"));
        }

        var rendered = message.Render(Values(request, spec), zone, now);
        if (!rendered.Ok)
            return new Send(to, spec.What.From, "", new SmsInfo("", 0, 0), spec.What.Provider, slots,
                new Suppress(Reasons.RenderFailed, $"missing {rendered.Missing} and no default"));

        var text = spec.What.SmartEncoding == true ? SmsEncoding.SmartEncode(rendered.Text!) : rendered.Text!;
        var info = SmsEncoding.Analyze(text);
        var tooLong = spec.What.MaxSegments is { } max && info.Segments > max
            ? new Suppress(Reasons.TooManySegments, $"{info.Segments} {info.Encoding} segments, max_segments is {max}")
            : null;
        return new Send(to, spec.What.From, text, info, spec.What.Provider, slots, tooLong ?? HeldOut(spec, request.UserId, globalControl))
            { MessagingService = spec.What.MessagingService };
    }

    /// <summary>
    /// The hold-outs rank last: a control user passed every check a sent user passes (consent, phone, DND, rendering,
    /// and — as a probe of the counters — limits and caps), so treatment and control are drawn from the same eligible
    /// users at the same moment. The probe takes no slot; the result is the control user's exposure.
    /// </summary>
    private static Suppress? HeldOut(Core.Campaigns.CampaignSpec spec, string userId, double globalControl)
    {
        if (globalControl > 0 && spec.Goal?.Transactional != true && InGlobalControl(userId, globalControl))
            return new Suppress(Reasons.GlobalControl, $"held out in the {globalControl}% global control group");
        if (spec.Goal?.ControlGroup is { } control && control > 0 && InControlGroup(spec.Id, userId, control))
            return new Suppress(Reasons.ControlGroup, $"held out in the {control}% control group");
        return null;
    }

    /// <summary>The global hold-out: stable per user across every campaign (its own salt, independent of any campaign's draw).</summary>
    public static bool InGlobalControl(string userId, double percent) => Sampling.Bucket($"global-control\n{userId}") < percent * 100;

    /// <summary>A stable portion of users per campaign: the same user is always in or always out.</summary>
    public static bool Sampled(string campaignId, string userId, double percent) => Sampling.Sampled(campaignId, userId, percent);

    /// <summary>
    /// The hold-out of <c>goal.control_group</c>: stable per campaign and user, and drawn with its own salt so it
    /// is independent of the percent sample (a control group is a share of those who would be sent to).
    /// </summary>
    public static bool InControlGroup(string campaignId, string userId, double percent) => Sampling.Bucket($"control\n{campaignId}\n{userId}") < percent * 100;

    public static TemplateValues Values(SmsRequest request, Core.Campaigns.CampaignSpec spec) => new(
        request.Context.ProfileProps,
        request.Context.EventProps,
        new Dictionary<string, object?> { ["id"] = spec.Id, ["name"] = spec.Name });

    /// <summary>The consent subjects of a request: its user, and its number in E.164 when it has a valid one.</summary>
    public static IReadOnlyList<string> ConsentSubjects(SmsRequest request) =>
        Phones.Parse(request.Context.Phone) is { } phone
            ? ["user:" + request.UserId, "phone:" + Phones.E164(phone)]
            : ["user:" + request.UserId];
}
