using Streams.Dispatcher.Providers;

namespace Streams.Pipeline;

/// <summary>Providers by the names campaigns use: the configured ones, and `sandbox` always.</summary>
public static class ProviderFactory
{
    public static IEnumerable<string> Names(StreamsOptions options) => options.Providers.Keys.Append(SandboxProvider.TypeName).Distinct();

    public static ISmsProvider Create(StreamsOptions options, string name, TimeProvider time, IDeliveryReports reports)
    {
        if (!Names(options).Contains(name))
            throw new ConfigException($"no provider named '{name}' (configured: {string.Join(", ", Names(options))})");
        return new SandboxProvider(name, Path.Combine(options.StateDir, "outbox.jsonl"), time, reports);
    }

    /// <summary>The provider with the dispatcher's middleware around it: pacing when a rate is configured.</summary>
    public static ISmsProvider CreatePaced(StreamsOptions options, string name, TimeProvider time, IDeliveryReports reports, Counters.ICounterStore counters)
    {
        var provider = Create(options, name, time, reports);
        return options.Providers.GetValueOrDefault(name) is { Rate: { } rate } settings
            ? new PacedProvider(provider, counters, time, rate, settings.Burst)
            : provider;
    }
}
