using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.State;
using Streams.Core;
using Streams.Core.Campaigns;

namespace Streams.Topologies.LiveTrigger;

/// <summary>One event in, one SmsRequest out per active live campaign whose trigger it satisfies.</summary>
public sealed class TriggerMatcher : ITransformer<string, UserInput, string, SmsRequest>
{
    private ProcessorContext<string, SmsRequest> _context = null!;
    private Func<IEnumerable<CampaignRecord>> _campaigns = null!;
    private IKeyValueStore<string, Profile> _profiles = null!;
    private readonly Dictionary<string, (int Version, CampaignSpec? Spec)> _parsed = [];

    public void Init(ProcessorContext<string, SmsRequest> context)
    {
        _context = context;
        _profiles = (IKeyValueStore<string, Profile>)context.GetStateStore(Core.StoreNames.Profiles);
        var store = context.GetStateStore(Core.StoreNames.Campaigns);
        _campaigns = store switch
        {
            IReadOnlyKeyValueStore<string, ValueAndTimestamp<CampaignRecord>> ts => () => All(ts).Select(v => v?.Value!),
            IReadOnlyKeyValueStore<string, CampaignRecord> plain => () => All(plain),
            _ => throw new InvalidOperationException($"store {Core.StoreNames.Campaigns} has unexpected type {store?.GetType()}"),
        };
    }

    private static IEnumerable<V> All<V>(IReadOnlyKeyValueStore<string, V> store)
    {
        foreach (var kv in store.All()) yield return kv.Value;
    }

    public Record<string, SmsRequest> Process(Record<string, UserInput> record)
    {
        if (record.Value.Profile is { } update)
        {
            _profiles.Put(record.Key, (_profiles.Get(record.Key) ?? Profile.Empty(record.Key)).Merge(update));
            return null!;
        }
        var ev = record.Value.Event!;
        var profile = _profiles.Get(record.Key);
        foreach (var campaign in _campaigns())
        {
            if (campaign is null || campaign.Status != CampaignStatus.Active) continue;
            var spec = SpecOf(campaign);
            if (spec?.Type != CampaignType.Live || spec.Who.Trigger is not { } trigger) continue;
            if (!Matches(spec, trigger, ev)) continue;
            _context.Forward(record.Key, new SmsRequest(
                RequestIds.ForTrigger(campaign.Id, ev.UserId, ev.Name, ev.Ts),
                campaign.Id,
                campaign.Version,
                ev.UserId,
                ev.Ts,
                new RequestContext(ev.Name, ev.Ts, ev.Props, profile?.Phone, profile?.Timezone, profile?.SmsOptIn,
                    profile?.Props ?? Props.Empty)));
        }
        return null!;
    }

    /// <summary>The active window is judged on the event's own time, so a replay decides as the original run did.</summary>
    public static bool Matches(CampaignSpec spec, Trigger trigger, UserEvent ev) =>
        string.Equals(trigger.Event, ev.Name, StringComparison.Ordinal)
        && (spec.When?.Start is not { } start || ev.Ts >= start)
        && (spec.When?.End is not { } end || ev.Ts < end)
        && ConditionEvaluator.All(trigger.Where, ev.Props);

    private CampaignSpec? SpecOf(CampaignRecord c)
    {
        if (_parsed.TryGetValue(c.Id, out var cached) && cached.Version == c.Version) return cached.Spec;
        var result = CampaignSpecParser.Parse(c.SpecJson);
        _parsed[c.Id] = (c.Version, result.Spec);
        return result.Spec;
    }

    public void Close()
    {
    }
}
