using Streams.Counters;

namespace Streams.Tests;

/// <summary>
/// Counter stores for tests that need no real Redis: one in-process Garnet server for the whole test run (the
/// embedded mode's server), and a fresh key prefix per store so tests never see each other's counters.
/// </summary>
public static class TestCounters
{
    private static readonly Lazy<EmbeddedRedis> Server = new(() => EmbeddedRedis.Start(dataDir: null));

    public static string Endpoint => Server.Value.Endpoint;

    /// <summary>A store ready to hand over (its epoch set, as a dispatcher's guard sets it on a new store).</summary>
    public static async Task<RedisCounterStore> CreateAsync(string? prefix = null)
    {
        var store = await Server.Value.ConnectAsync(prefix ?? $"t{Guid.NewGuid():N}:");
        await store.SetEpochAsync("test");
        return store;
    }

    public static RedisCounterStore Create(string? prefix = null) => CreateAsync(prefix).GetAwaiter().GetResult();
}
