using Streams.Core;

namespace Streams.Dispatcher;

/// <summary>The campaigns the dispatcher judges requests against (the live CampaignCache, or a fixed set).</summary>
public interface ICampaignView
{
    CampaignEntry? Get(string campaignId);

    /// <summary>
    /// Completes once the view holds every campaign record written before the call (a fixed set always does): asked
    /// for when a request names a campaign, or a version of it, the view has not seen yet.
    /// </summary>
    Task CatchUpAsync() => Task.CompletedTask;
}

/// <summary>A campaign as the dispatcher holds it: the record, its parsed spec and its template, parsed once per version.</summary>
public sealed record CampaignEntry(CampaignRecord Record, Core.Campaigns.CampaignSpec? Spec, Core.Templates.MessageTemplate? Message)
{
    public static CampaignEntry From(CampaignRecord record)
    {
        var spec = Core.Campaigns.CampaignSpecParser.Parse(record.SpecJson).Spec;
        return new CampaignEntry(record, spec, spec is null ? null : Core.Templates.MessageTemplate.Parse(spec.What.Text).Template);
    }
}

/// <summary>A fixed set of campaigns, by id (the simulator's; tests' and benchmarks'). Changes to the dictionary it
/// was given are seen.</summary>
public sealed class FixedCampaigns : ICampaignView
{
    private readonly IReadOnlyDictionary<string, CampaignEntry> _byId;
    private readonly CampaignEntry? _any;

    public FixedCampaigns(IReadOnlyDictionary<string, CampaignEntry> byId) : this(byId, null)
    {
    }

    public FixedCampaigns(params CampaignEntry[] entries) : this(entries.ToDictionary(e => e.Record.Id), null)
    {
    }

    private FixedCampaigns(IReadOnlyDictionary<string, CampaignEntry> byId, CampaignEntry? any) => (_byId, _any) = (byId, any);

    /// <summary>One campaign, whatever id a request names.</summary>
    public static FixedCampaigns ForAnyId(CampaignEntry entry) => new(new Dictionary<string, CampaignEntry>(), entry);

    public CampaignEntry? Get(string campaignId) => _any ?? _byId.GetValueOrDefault(campaignId);
}
