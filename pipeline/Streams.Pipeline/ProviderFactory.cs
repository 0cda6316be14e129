using Polly;
using Streams.Core;
using Streams.Counters;
using Streams.Dispatcher;
using Streams.Dispatcher.Providers;

namespace Streams.Pipeline;

/// <summary>Providers by the names campaigns use: the configured ones, and `sandbox` always.</summary>
public static class ProviderFactory
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        Timeout = Timeout.InfiniteTimeSpan, // the resilience pipeline times each attempt
    };

    public static IEnumerable<string> Names(StreamsOptions options) => options.Providers.Keys.Append(SandboxProvider.TypeName).Distinct();

    /// <summary>
    /// One provider. With <paramref name="counters"/> (a running pipeline) the sandbox shares its index through them and
    /// a group's members are paced; without (a one-off test send) the sandbox keeps its own.
    /// </summary>
    public static ISmsProvider Create(StreamsOptions options, string name, TimeProvider time, ICounterStore? counters = null)
    {
        if (!Names(options).Contains(name))
            throw new ConfigException($"no provider named '{name}' (configured: {string.Join(", ", Names(options))})");
        var o = options.Providers.GetValueOrDefault(name) ?? new ProviderOptions();
        return ProviderKind.All[o.Type].Create(name, o, new ProviderContext(Http, time, options.StateDir, counters, m => Member(options, m, time, counters)));
    }

    /// <summary>A group's member, with its own pacing as middleware (the group's turn is taken before the claim).</summary>
    private static ISmsProvider Member(StreamsOptions options, string name, TimeProvider time, ICounterStore? counters)
    {
        var provider = Create(options, name, time, counters);
        return counters is not null && options.Providers.GetValueOrDefault(name) is { Rate: { } rate } settings
            ? new PacedProvider(provider, counters, time, rate, settings.Burst)
            : provider;
    }

    /// <summary>Every provider of the configuration, with its pacing and report timeout, as the dispatcher uses them.</summary>
    public static Registry CreateRegistry(StreamsOptions options, TimeProvider time, ICounterStore counters)
    {
        var registry = new Registry();
        foreach (var name in Names(options))
        {
            var settings = options.Providers.GetValueOrDefault(name);
            registry.Add(Create(options, name, time, counters),
                settings is { Rate: { } rate } ? new Pacer(counters, time, name, rate, settings.Burst) : null,
                settings?.ReportTimeoutSpan ?? RequestHandler.DefaultReportTimeout,
                settings?.Concurrency ?? RequestHandler.DefaultConcurrency);
        }
        return registry;
    }

    public sealed class Registry : IProviderRegistry
    {
        private readonly Dictionary<string, (ISmsProvider Provider, Pacer? Pacer, TimeSpan ReportTimeout, int Concurrency)> _providers = [];

        public void Add(ISmsProvider provider, Pacer? pacer, TimeSpan reportTimeout, int concurrency) =>
            _providers[provider.Name] = (provider, pacer, reportTimeout, concurrency);

        public int ConcurrencyFor(string name) => _providers.TryGetValue(name, out var p) ? p.Concurrency : RequestHandler.DefaultConcurrency;

        public ISmsProvider? Get(string name) => _providers.TryGetValue(name, out var p) ? p.Provider : null;

        public Pacer? PacerFor(string name) => _providers.TryGetValue(name, out var p) ? p.Pacer : null;

        public TimeSpan ReportTimeoutFor(string name) => _providers.TryGetValue(name, out var p) ? p.ReportTimeout : RequestHandler.DefaultReportTimeout;

        public IEnumerable<ISmsProvider> All => _providers.Values.Select(p => p.Provider);
    }
}
