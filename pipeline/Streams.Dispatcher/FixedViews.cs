using Streams.Dispatcher.Providers;

namespace Streams.Dispatcher;

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

/// <summary>One provider (the simulator's sandbox; tests' and benchmarks' fakes): under its own name, or under
/// every name a campaign uses.</summary>
public sealed class FixedProviders(ISmsProvider provider, bool anyName = false, Pacer? pacer = null) : IProviderRegistry
{
    public ISmsProvider? Get(string name) => anyName || name == provider.Name ? provider : null;

    public Pacer? PacerFor(string name) => pacer;
}
