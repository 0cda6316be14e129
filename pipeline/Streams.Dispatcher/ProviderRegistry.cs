using Streams.Dispatcher.Providers;

namespace Streams.Dispatcher;

/// <summary>The providers by the names campaigns use, with what the send chain needs to know of each.</summary>
public interface IProviderRegistry
{
    ISmsProvider? Get(string name);

    /// <summary>The provider's pacing (its rate), taken before a request is claimed; null when it is not paced.</summary>
    Pacer? PacerFor(string name) => null;

    /// <summary>How long after a send a delivery report must come before the request ends <c>expired</c>.</summary>
    TimeSpan ReportTimeoutFor(string name) => RequestHandler.DefaultReportTimeout;

    /// <summary>How many calls to the provider may be in flight at once (a batch API's call counts as one).</summary>
    int ConcurrencyFor(string name) => RequestHandler.DefaultConcurrency;
}

/// <summary>One provider (the simulator's sandbox; tests' and benchmarks' fakes): under its own name, or under
/// every name a campaign uses.</summary>
public sealed class FixedProviders(ISmsProvider provider, bool anyName = false, Pacer? pacer = null) : IProviderRegistry
{
    public ISmsProvider? Get(string name) => anyName || name == provider.Name ? provider : null;

    public Pacer? PacerFor(string name) => pacer;
}
