using Streams.Dispatcher;
using Streams.Dispatcher.Providers;

namespace Streams.Benchmarks;

/// <summary>The bench's one campaign, whatever id a request names.</summary>
internal sealed class OneCampaign(CampaignEntry entry) : ICampaignView
{
    public CampaignEntry? Get(string campaignId) => entry;
}

/// <summary>The bench's one provider, whatever name a campaign uses.</summary>
internal sealed class OneProvider(ISmsProvider provider) : IProviderRegistry
{
    public ISmsProvider? Get(string name) => provider;
}
