using System.Globalization;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.State;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Core.Segments;
using Streams.Kafka;
using Streams.Topologies.State;

namespace Streams.Topologies.LiveTrigger;

/// <summary>
/// One event in, one SmsRequest out per active live campaign whose trigger it satisfies. A trigger
/// with <c>inaction</c> starts a per-user, per-campaign timer instead: the follow-up event (with its own
/// filters) before the window ends cancels it; at the window's end the request goes out with the
/// triggering event's properties and the profile as it is then. A second trigger event while a timer
/// waits restarts the window from the later event (the nudge follows the last add to cart, with it).
/// Profiles, behaviour and timers live in the per-user <see cref="UserState"/>; campaigns come from
/// <see cref="LiveCampaigns"/>.
/// An event of a user the matcher has no profile for waits (at most the profile wait) for one: profiles and events
/// are separate topics read side by side, so a new user's profile produced just before their first event can be read
/// after it, and that event would find no phone and no profile properties. The profile's arrival judges the held
/// events at once, in their order; at the wait's end they are judged without it.
/// </summary>
public sealed class TriggerMatcher : ITransformer<string, UserInput, string, SmsRequest>
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _scanEvery;
    private readonly int _horizonDays;
    private readonly CampaignStore? _campaignStore;
    private readonly TimeSpan _profileWait;
    private ProcessorContext<string, SmsRequest> _context = null!;
    private LiveCampaigns _campaigns = null!;
    private UserState _users = null!;

    // Streamiz makes one transformer per task: first with this constructor, then with the builder's parameters.
    public TriggerMatcher() : this(TimeProvider.System, TimeSpan.FromSeconds(1), BehaviourSummary.DefaultHorizonDays)
    {
    }

    public TriggerMatcher(TimeProvider time, TimeSpan scanEvery, int horizonDays, CampaignStore? campaignStore = null, TimeSpan profileWait = default)
    {
        _profileWait = profileWait;
        _time = time;
        _scanEvery = scanEvery;
        _horizonDays = horizonDays;
        _campaignStore = campaignStore;
    }

    public void Init(ProcessorContext<string, SmsRequest> context)
    {
        _context = context;
        _users = new UserState((IKeyValueStore<string, byte[]>)context.GetStateStore(UserState.StoreName));
        _campaigns = new LiveCampaigns(context.GetStateStore(StoreNames.Campaigns), _campaignStore is { } counted ? () => counted.Writes : null);
        context.Schedule(_scanEvery, PunctuationType.PROCESSING_TIME, _ => FireDue());
    }

    public Record<string, SmsRequest> Process(Record<string, UserInput> record)
    {
        if (record.Value.Profile is { } update)
        {
            // Events are held only while a user has no profile: only a first profile can have any to release.
            var (merged, first) = _users.Merge(record.Key, update);
            if (first) foreach (var held in _users.TakeParked(record.Key)) Judge(record.Key, held, merged);
            return null!;
        }
        if (record.Value.Membership is { } membership)
        {
            _users.PutMemberships(record.Key, membership);
            return null!;
        }
        var ev = record.Value.Event!;
        var profile = _users.Profile(record.Key);
        if (profile is null && _profileWait > TimeSpan.Zero) _users.Park(record.Key, ev, _time.GetUtcNow() + _profileWait);
        else Judge(record.Key, ev, profile);
        FireDue();
        return null!;
    }

    private void Judge(string key, UserEvent ev, Profile? profile)
    {
        // Segments see past behaviour: the summary as it was before this event.
        var behaviour = _users.Behaviour(key);
        // Read only when a campaign names saved segments: most events judge none, and this is a store read per event.
        IReadOnlySet<string>? memberships = null;
        foreach (var (campaign, spec, trigger) in _campaigns.Listening(ev.Name))
        {
            if (trigger.Inaction is { } inaction && string.Equals(inaction.Event, ev.Name, StringComparison.Ordinal)
                && ConditionEvaluator.All(inaction.Where, ev.Props))
                _users.Timers.Cancel(UserState.TimerId(campaign.Id, ev.UserId));
            if (!Matches(spec, trigger, ev)) continue;
            if (memberships is null && SegmentTree.HasRefs(spec.Who.Segment)) memberships = _users.Memberships(key);
            if (!SegmentEvaluator.Matches(spec.Who.Segment, profile?.Props ?? Props.Empty, behaviour, ev.Ts, _horizonDays, memberships)) continue;
            var request = Request(campaign, ev, profile);
            if (trigger.Inaction is { } wait) Schedule(request, ev.Ts + wait.Within);
            else if (trigger.Date is { } reminder) Remind(spec, reminder, request, ev, profile);
            else _context.Forward(key, request);
        }
        behaviour.Record(ev.Name, ev.Ts, _horizonDays);
        _users.Put(key, behaviour);
    }

    private static SmsRequest Request(CampaignRecord campaign, UserEvent ev, Profile? profile) => new(
        RequestIds.ForTrigger(campaign.Id, ev.UserId, ev.Name, ev.Ts),
        campaign.Id,
        campaign.Version,
        ev.UserId,
        ev.Ts,
        new RequestContext(ev.Name, ev.Ts, ev.Props, profile?.Phone, profile?.Timezone, profile?.SmsOptIn, profile?.Props ?? Props.Empty));

    private void Schedule(SmsRequest request, DateTimeOffset due) =>
        _users.Timers.Schedule(UserState.TimerId(request.CampaignId, request.UserId), due, Codecs.SmsRequest.Encode(request));

    /// <summary>
    /// A reminder at (the date property + offset) at a local time of day, in the user's time zone. One
    /// reminder waits per user and campaign: a later trigger event reschedules it; one whose date
    /// property is missing or empty cancels it; a reminder already in the past is not sent.
    /// </summary>
    private void Remind(CampaignSpec spec, DateReminder reminder, SmsRequest request, UserEvent ev, Profile? profile)
    {
        var zone = Phones.UserTimeZone(profile?.Timezone, Phones.Parse(profile?.Phone), spec.When?.Timezone);
        if (DueOf(reminder, ev.Props.GetValueOrDefault(reminder.Prop), zone) is not { } due || due <= _time.GetUtcNow())
        {
            _users.Timers.Cancel(UserState.TimerId(request.CampaignId, request.UserId));
            return;
        }
        Schedule(request, due);
    }

    public static DateTimeOffset? DueOf(DateReminder reminder, object? value, TimeZoneInfo zone)
    {
        DateOnly day;
        if (value is string text && Timestamps.TryParseInstant(text, out var instant))
            day = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, zone).DateTime);
        else if (value is string date && DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
            day = d;
        else
            return null;
        return Timestamps.AtLocal(day.ToDateTime(reminder.At).Add(reminder.Offset), zone);
    }

    /// <summary>Sends what is due on the injected clock, with the profile as it is now; a campaign paused or stopped meanwhile sends nothing.</summary>
    private void FireDue()
    {
        foreach (var (userId, _, _) in _users.ParkDeadlines.TakeDue(_time.GetUtcNow()))
            foreach (var held in _users.TakeParked(userId)) Judge(userId, held, null);
        var due = _users.Timers.TakeDue(_time.GetUtcNow());
        if (due.Count == 0) return;
        var active = _campaigns.Active().ToDictionary(c => c.Campaign.Id, c => c.Campaign);
        foreach (var (_, _, value) in due)
        {
            var request = Codecs.SmsRequest.DecodeOwn(value);
            if (!active.TryGetValue(request.CampaignId, out var campaign)) continue;
            var profile = _users.Profile(request.UserId);
            _context.Forward(request.UserId, request with
            {
                CampaignVersion = campaign.Version,
                Context = request.Context with
                {
                    Phone = profile?.Phone, Timezone = profile?.Timezone, SmsOptIn = profile?.SmsOptIn, ProfileProps = profile?.Props ?? Props.Empty,
                },
            });
        }
    }

    /// <summary>The active window is judged on the event's own time, so a replay decides as the original run did.</summary>
    public static bool Matches(CampaignSpec spec, Trigger trigger, UserEvent ev) =>
        string.Equals(trigger.Event, ev.Name, StringComparison.Ordinal)
        && (spec.When?.Start is not { } start || ev.Ts >= start)
        && (spec.When?.End is not { } end || ev.Ts < end)
        && ConditionEvaluator.All(trigger.Where, ev.Props);

    public void Close()
    {
    }
}
