using System.Globalization;
using System.Text;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.State;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Core.Segments;
using Streams.Serdes;

namespace Streams.Topologies.LiveTrigger;

/// <summary>
/// One event in, one SmsRequest out per active live campaign whose trigger it satisfies. A trigger
/// with <c>inaction</c> starts a per-user, per-campaign timer instead: the follow-up event (with its own
/// filters) before the window ends cancels it; at the window's end the request goes out with the
/// triggering event's properties and the profile as it is then. A second trigger event while a timer
/// waits restarts the window from the later event (the nudge follows the last add to cart, with it).
/// Timers live in this transformer's RocksDB store keyed by due time, so a scan stops at the first
/// timer that is not due; the store is changelogged, so a restart keeps every timer.
/// </summary>
public sealed class TriggerMatcher : ITransformer<string, UserInput, string, SmsRequest>
{
    private const string ProfilePrefix = "p|";
    private const string TimerPrefix = "t|";
    private const string IndexPrefix = "i|";
    public const string BehaviourPrefix = "b|";

    private readonly TimeProvider _time;
    private readonly TimeSpan _scanEvery;
    private readonly int _horizonDays;
    private ProcessorContext<string, SmsRequest> _context = null!;
    private Func<IEnumerable<(string Key, byte[]? Value)>> _campaigns = null!;
    private IKeyValueStore<string, byte[]> _state = null!;

    // Streamiz makes one transformer per task: first with this constructor, then with the builder's parameters.
    public TriggerMatcher() : this(TimeProvider.System, TimeSpan.FromSeconds(1), BehaviourSummary.DefaultHorizonDays)
    {
    }

    public TriggerMatcher(TimeProvider time, TimeSpan scanEvery, int horizonDays)
    {
        _time = time;
        _scanEvery = scanEvery;
        _horizonDays = horizonDays;
    }

    public void Init(ProcessorContext<string, SmsRequest> context)
    {
        _context = context;
        _state = (IKeyValueStore<string, byte[]>)context.GetStateStore(StoreNames.UserState);
        var store = context.GetStateStore(StoreNames.Campaigns);
        _campaigns = store switch
        {
            IReadOnlyKeyValueStore<string, ValueAndTimestamp<byte[]>> ts => () => All(ts).Select(kv => (kv.Key, kv.Value?.Value)),
            IReadOnlyKeyValueStore<string, byte[]> plain => () => All(plain),
            _ => throw new InvalidOperationException($"store {StoreNames.Campaigns} has unexpected type {store?.GetType()}"),
        };
        context.Schedule(_scanEvery, PunctuationType.PROCESSING_TIME, _ => FireDue());
    }

    private static IEnumerable<(string Key, V? Value)> All<V>(IReadOnlyKeyValueStore<string, V> store)
    {
        foreach (var kv in store.All()) yield return (kv.Key, kv.Value);
    }

    public Record<string, SmsRequest> Process(Record<string, UserInput> record)
    {
        if (record.Value.Profile is { } update)
        {
            _state.Put(ProfilePrefix + record.Key, Codecs.ProfileUpdate.EncodeProfile((ProfileOf(record.Key) ?? Profile.Empty(record.Key)).Merge(update)));
            return null!;
        }
        var ev = record.Value.Event!;
        var profile = ProfileOf(record.Key);
        // Segments see past behaviour: the summary as it was before this event.
        var behaviour = BehaviourOf(record.Key);
        foreach (var (campaign, spec, trigger) in LiveCampaigns())
        {
            if (trigger.Inaction is { } inaction && string.Equals(inaction.Event, ev.Name, StringComparison.Ordinal)
                && ConditionEvaluator.All(inaction.Where, ev.Props))
                Cancel(campaign.Id, ev.UserId);
            if (!Matches(spec, trigger, ev)) continue;
            if (!SegmentEvaluator.Matches(spec.Who.Segment, profile?.Props ?? Props.Empty, behaviour, ev.Ts, _horizonDays)) continue;
            var request = Request(campaign, ev, profile);
            if (trigger.Inaction is { } wait) Schedule(request, ev.Ts + wait.Within);
            else if (trigger.Date is { } reminder) Remind(spec, reminder, request, ev, profile);
            else _context.Forward(record.Key, request);
        }
        behaviour.Record(ev.Name, ev.Ts, _horizonDays);
        _state.Put(BehaviourPrefix + record.Key, behaviour.Encode());
        FireDue();
        return null!;
    }

    private BehaviourSummary BehaviourOf(string userId) =>
        _state.Get(BehaviourPrefix + userId) is { } bytes ? BehaviourSummary.Decode(bytes) : new BehaviourSummary();

    private IEnumerable<(CampaignRecord Campaign, CampaignSpec Spec, Trigger Trigger)> LiveCampaigns()
    {
        foreach (var (key, raw) in _campaigns())
        {
            if (raw is null || Known(key, raw) is not { Record.Status: CampaignStatus.Active, Spec: { Type: CampaignType.Live, Who.Trigger: { } trigger } spec } known) continue;
            yield return (known.Record, spec, trigger);
        }
    }

    private sealed record KnownCampaign(byte[] Raw, CampaignRecord Record, CampaignSpec? Spec);

    /// <summary>
    /// The campaign behind a record's bytes, decoded and parsed once per change: with 100 campaigns, decoding every
    /// record for every event was most of the live path's cost. A record that cannot be read is skipped.
    /// </summary>
    private KnownCampaign? Known(string key, byte[] raw)
    {
        if (_known.TryGetValue(key, out var known) && (ReferenceEquals(known.Raw, raw) || known.Raw.AsSpan().SequenceEqual(raw))) return known;
        if (Codecs.CampaignRecord.TryDecode(raw, int.MaxValue) is not { Ok: true, Value: { } record })
        {
            _known.Remove(key);
            return null;
        }
        return _known[key] = new KnownCampaign(raw, record, CampaignSpecParser.Parse(record.SpecJson).Spec);
    }

    private readonly Dictionary<string, KnownCampaign> _known = [];

    private static SmsRequest Request(CampaignRecord campaign, UserEvent ev, Profile? profile) => new(
        RequestIds.ForTrigger(campaign.Id, ev.UserId, ev.Name, ev.Ts),
        campaign.Id,
        campaign.Version,
        ev.UserId,
        ev.Ts,
        new RequestContext(ev.Name, ev.Ts, ev.Props, profile?.Phone, profile?.Timezone, profile?.SmsOptIn, profile?.Props ?? Props.Empty));

    private Profile? ProfileOf(string userId) =>
        _state.Get(ProfilePrefix + userId) is { } bytes ? Codecs.ProfileUpdate.DecodeProfile(bytes) : null;

    private static string TimerKey(DateTimeOffset due, string campaignId, string userId) =>
        $"{TimerPrefix}{Timers.DueKeys.Due(due)}|{campaignId}|{userId}";

    private void Schedule(SmsRequest request, DateTimeOffset due)
    {
        Cancel(request.CampaignId, request.UserId);
        var key = TimerKey(due, request.CampaignId, request.UserId);
        _state.Put(key, Codecs.SmsRequest.Encode(request));
        _state.Put($"{IndexPrefix}{request.CampaignId}|{request.UserId}", Encoding.UTF8.GetBytes(key));
    }

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
            Cancel(request.CampaignId, request.UserId);
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

    private void Cancel(string campaignId, string userId)
    {
        var index = $"{IndexPrefix}{campaignId}|{userId}";
        if (_state.Get(index) is not { } timer) return;
        _state.Delete(Encoding.UTF8.GetString(timer));
        _state.Delete(index);
    }

    /// <summary>Sends what is due on the injected clock; a campaign paused or stopped meanwhile sends nothing.</summary>
    private void FireDue()
    {
        var upTo = Timers.DueKeys.UpTo(TimerPrefix, _time.GetUtcNow());
        var due = new List<KeyValuePair<string, byte[]>>();
        using (var range = _state.Range(TimerPrefix, upTo))
        {
            while (range.MoveNext()) due.Add(range.Current!.Value);
        }
        if (due.Count == 0) return;
        var active = LiveCampaigns().ToDictionary(c => c.Campaign.Id, c => c.Campaign);
        foreach (var (key, value) in due)
        {
            var request = Codecs.SmsRequest.Decode(value, int.MaxValue);
            _state.Delete(key);
            _state.Delete($"{IndexPrefix}{request.CampaignId}|{request.UserId}");
            if (!active.TryGetValue(request.CampaignId, out var campaign)) continue;
            var profile = ProfileOf(request.UserId);
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
