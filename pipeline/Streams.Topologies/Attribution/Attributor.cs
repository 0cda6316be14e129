using System.Text.Json;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.State;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Kafka;
using Streams.Topologies.LiveTrigger;

namespace Streams.Topologies.Attribution;

/// <summary>
/// Keeps each user's exposures and recent goal events, and credits a goal event to every exposure whose campaign's
/// <c>goal.conversion</c> it meets inside the window (<c>exposed_at ≤ event ts ≤ exposed_at + within</c>, on the
/// event's own time): at most once per exposure, so a repeated goal event counts once. Of the exposures whose window
/// covers the event, the latest is the last touch. Either side may come first: an exposure that arrives after a
/// goal event it covers (results and events are separate topics) finds the event in the ledger.
/// Expiry runs on stream time (the latest record time this task has seen, capped by the clock), never on the clock
/// alone: an attribution that was stopped or fell behind loses nothing when it catches up. With H the longest goal
/// window of the campaigns, an exposure is kept for its window plus H (a goal event up to H late still counts); a goal
/// event waits <see cref="AttributionOptions.ExposureLag"/> for an exposure that lags behind it.
/// </summary>
public sealed class Attributor : ITransformer<string, Touch, string, ConversionRecord>
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _sweepEvery;
    private readonly long _exposureLagMs;
    private long _streamTime = long.MinValue;
    private ProcessorContext<string, ConversionRecord> _context = null!;
    private IKeyValueStore<string, byte[]> _store = null!;
    private LiveCampaigns _campaigns = null!;
    private readonly CampaignStore? _campaignStore;
    private Goals _goals = Goals.None;

    public Attributor() : this(TimeProvider.System, TimeSpan.FromMinutes(10), TimeSpan.FromHours(1))
    {
    }

    public Attributor(TimeProvider time, TimeSpan sweepEvery, TimeSpan exposureLag, CampaignStore? campaignStore = null)
    {
        _campaignStore = campaignStore;
        _time = time;
        _sweepEvery = sweepEvery;
        _exposureLagMs = (long)exposureLag.TotalMilliseconds;
    }

    /// <summary>Stream time in epoch ms: the latest record time seen, never past the clock; MinValue before any record.</summary>
    private long Now => Math.Min(_streamTime, _time.GetUtcNow().ToUnixTimeMilliseconds());

    public void Init(ProcessorContext<string, ConversionRecord> context)
    {
        _context = context;
        _store = (IKeyValueStore<string, byte[]>)context.GetStateStore(StoreNames.Attribution);
        _campaigns = new LiveCampaigns(context.GetStateStore(StoreNames.Campaigns), _campaignStore is { } counted ? () => counted.Writes : null);
        context.Schedule(_sweepEvery, PunctuationType.PROCESSING_TIME, _ => Sweep());
    }

    public Record<string, ConversionRecord> Process(Record<string, Touch> record)
    {
        var goals = CurrentGoals();
        _streamTime = Math.Max(_streamTime, (record.Value.Event?.Ts ?? record.Value.Exposure!.Ts).ToUnixTimeMilliseconds());
        if (record.Value.Event is { } ev)
        {
            // Most events are no campaign's goal: those never touch the store.
            if (!goals.ByEvent.Contains(ev.Name)) return null!;
            OnGoalEvent(record.Key, ev, goals);
        }
        // A campaign this instance has not seen yet (its record still on the way to the global table) may have a goal:
        // its exposures are kept too, and judged by the goal the campaign has when a goal event comes.
        else if (record.Value.Exposure is { } exposure && (goals.ByCampaign.ContainsKey(exposure.CampaignId) || !goals.Known.Contains(exposure.CampaignId)))
        {
            OnExposure(record.Key, exposure, goals);
        }
        return null!;
    }

    private void OnGoalEvent(string user, UserEvent ev, Goals goals)
    {
        var ledger = Load(user, goals);
        var at = ev.Ts.ToUnixTimeMilliseconds();
        var encoded = Codecs.UserEvent.Encode(ev);
        if (ledger.Events.Any(e => e.At == at && e.Name == ev.Name && e.Bytes.AsSpan().SequenceEqual(encoded))) return; // a redelivery: credited before
        var covering = ledger.Exposures.Where(x => Covers(x, ev, goals)).ToList();
        var last = covering.OrderBy(x => x.At).ThenBy(x => x.Request, StringComparer.Ordinal).LastOrDefault();
        foreach (var x in covering.Where(x => !x.Converted))
        {
            Credit(user, x, ev, goals, ReferenceEquals(x, last));
        }
        if (at + _exposureLagMs >= Now) ledger.Events.Add(new LedgerEvent(ev.Name, at, encoded));
        Save(user, ledger);
    }

    private void OnExposure(string user, SmsResult result, Goals goals)
    {
        var ledger = Load(user, goals);
        if (ledger.Exposures.Any(x => x.Request == result.RequestId)) return;
        var x = new LedgerExposure(result.CampaignId, result.RequestId, ExposureGroup.Of(result)!, result.Ts.ToUnixTimeMilliseconds());
        ledger.Exposures.Add(x);
        // A goal event that came first: the earliest one inside the window converts this exposure.
        foreach (var e in ledger.Events.OrderBy(e => e.At))
        {
            var ev = Codecs.UserEvent.DecodeOwn(e.Bytes);
            if (!Covers(x, ev, goals)) continue;
            var later = ledger.Exposures.Any(y => !ReferenceEquals(y, x) && Covers(y, ev, goals)
                && (y.At > x.At || (y.At == x.At && string.CompareOrdinal(y.Request, x.Request) > 0)));
            Credit(user, x, ev, goals, !later);
            break;
        }
        Save(user, ledger);
    }

    private static bool Covers(LedgerExposure x, UserEvent ev, Goals goals)
    {
        if (!goals.ByCampaign.TryGetValue(x.Campaign, out var goal) || goal.Event != ev.Name) return false;
        var at = ev.Ts.ToUnixTimeMilliseconds();
        return at >= x.At && at <= x.At + (long)goal.Within.TotalMilliseconds && ConditionEvaluator.All(goal.Conditions, ev.Props);
    }

    private void Credit(string user, LedgerExposure x, UserEvent ev, Goals goals, bool lastTouch)
    {
        x.Converted = true;
        var goal = goals.ByCampaign[x.Campaign];
        double? value = goal.Value is { } prop ? ev.Props.GetValueOrDefault(prop) switch
        {
            long l => l,
            double d => d,
            // Apps send amounts as text too ("12.50"): read the way conditions read numbers in strings.
            string text when double.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign | System.Globalization.NumberStyles.AllowDecimalPoint | System.Globalization.NumberStyles.AllowExponent,
                System.Globalization.CultureInfo.InvariantCulture, out var parsed) && double.IsFinite(parsed) => parsed,
            _ => null,
        } : null;
        var runKey = x.Request.Length > RequestIds.RunKeyLength && x.Request[RequestIds.RunKeyLength] == '-' ? x.Request[..RequestIds.RunKeyLength] : null;
        _context.Forward(user, new ConversionRecord(x.Campaign, user, x.Request, runKey, x.Group, DateTimeOffset.FromUnixTimeMilliseconds(x.At),
            ev.Name, ev.Ts, value, lastTouch));
    }

    private Goals CurrentGoals()
    {
        var changes = _campaigns.Changes;
        if (changes != _goals.At) _goals = Goals.Of(_campaigns.All(), changes);
        return _goals;
    }

    private Ledger Load(string user, Goals goals)
    {
        var ledger = _store.Get(user) is { } bytes ? JsonSerializer.Deserialize<Ledger>(bytes) ?? new Ledger() : new Ledger();
        Prune(ledger, goals);
        return ledger;
    }

    private void Save(string user, Ledger ledger)
    {
        if (ledger.Exposures.Count == 0 && ledger.Events.Count == 0) _store.Delete(user);
        else _store.Put(user, JsonSerializer.SerializeToUtf8Bytes(ledger));
    }

    /// <returns>Whether anything was dropped.</returns>
    private bool Prune(Ledger ledger, Goals goals)
    {
        var now = Now;
        if (now == long.MinValue) return false;
        var horizon = (long)goals.Horizon.TotalMilliseconds;
        var dropped = ledger.Exposures.RemoveAll(x =>
            x.At + (goals.ByCampaign.TryGetValue(x.Campaign, out var g) ? (long)g.Within.TotalMilliseconds : 0) + horizon < now);
        dropped += ledger.Events.RemoveAll(e => e.At + _exposureLagMs < now);
        return dropped > 0;
    }

    /// <summary>Every ledger at once, for users not seen since their entries expired.</summary>
    private void Sweep()
    {
        var goals = CurrentGoals();
        var changed = new List<(string User, Ledger Ledger)>();
        foreach (var kv in _store.All())
        {
            var ledger = JsonSerializer.Deserialize<Ledger>(kv.Value) ?? new Ledger();
            if (Prune(ledger, goals)) changed.Add((kv.Key, ledger));
        }
        foreach (var (user, ledger) in changed) Save(user, ledger);
    }

    public void Close()
    {
    }

    /// <summary>The campaigns with a conversion goal, by id and by goal event, the longest window among them, and every campaign known.</summary>
    private sealed record Goals(IReadOnlyDictionary<string, Conversion> ByCampaign, IReadOnlySet<string> ByEvent, TimeSpan Horizon, IReadOnlySet<string> Known, int At)
    {
        public static readonly Goals None = new(new Dictionary<string, Conversion>(), new HashSet<string>(), TimeSpan.Zero, new HashSet<string>(), -1);

        public static Goals Of(IReadOnlyDictionary<string, (CampaignRecord Record, CampaignSpec Spec)> campaigns, int at)
        {
            var byCampaign = campaigns.Where(c => c.Value.Spec.Goal?.Conversion is not null)
                .ToDictionary(c => c.Key, c => c.Value.Spec.Goal!.Conversion!, StringComparer.Ordinal);
            return new Goals(byCampaign, byCampaign.Values.Select(g => g.Event).ToHashSet(StringComparer.Ordinal),
                byCampaign.Count == 0 ? TimeSpan.Zero : byCampaign.Values.Max(g => g.Within), campaigns.Keys.ToHashSet(StringComparer.Ordinal), at);
        }
    }
}

/// <summary>One user's exposures and goal events, as the attribution store keeps them (JSON).</summary>
public sealed class Ledger
{
    public List<LedgerExposure> Exposures { get; set; } = [];
    public List<LedgerEvent> Events { get; set; } = [];
}

public sealed class LedgerExposure(string campaign, string request, string group, long at)
{
    public string Campaign { get; set; } = campaign;
    public string Request { get; set; } = request;
    public string Group { get; set; } = group;
    public long At { get; set; } = at;
    public bool Converted { get; set; }
}

/// <summary>A goal event as it came (Avro), kept for exposures that arrive after it.</summary>
public sealed record LedgerEvent(string Name, long At, byte[] Bytes);
