using StackExchange.Redis;

namespace Streams.Counters;

/// <summary>Redis implementation; each operation is one atomic command or Lua script, so any number of dispatchers can share it.</summary>
public sealed class RedisCounterStore : ICounterStore
{
    // The claim stores "claimed|owner"; a sent request stores "sent|detail". A claim by the same owner is re-entrant.
    private const string ClaimScript = """
        local v = redis.call('GET', KEYS[1])
        if not v then
          redis.call('SET', KEYS[1], 'claimed|' .. ARGV[1], 'PX', ARGV[2])
          return ''
        end
        if v == ('claimed|' .. ARGV[1]) then return '' end
        return v
        """;

    private readonly ConnectionMultiplexer _redis;
    private readonly IDatabase _db;
    private readonly string _prefix;

    private RedisCounterStore(ConnectionMultiplexer redis, string prefix)
    {
        _redis = redis;
        _db = redis.GetDatabase();
        _prefix = prefix;
    }

    public static async Task<RedisCounterStore> ConnectAsync(string configuration, string prefix = "streams:")
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 5000;
        return new RedisCounterStore(await ConnectionMultiplexer.ConnectAsync(options), prefix);
    }

    private RedisKey SendKey(string requestId) => $"{_prefix}send:{requestId}";

    public async Task<Claim> ClaimAsync(string requestId, string owner, TimeSpan keep)
    {
        var result = (string?)await _db.ScriptEvaluateAsync(ClaimScript, [SendKey(requestId)], [owner, (long)keep.TotalMilliseconds]);
        if (string.IsNullOrEmpty(result)) return new Claim(true, SendState.Absent, null);
        var bar = result.IndexOf('|');
        var state = result[..bar] == "sent" ? SendState.Sent : SendState.Claimed;
        return new Claim(false, state, result[(bar + 1)..]);
    }

    public Task MarkSentAsync(string requestId, string detail, TimeSpan keep) =>
        _db.StringSetAsync(SendKey(requestId), "sent|" + detail, keep);

    public Task ReleaseAsync(string requestId) => _db.KeyDeleteAsync(SendKey(requestId));

    public Task<bool> TryMarkOnceAsync(string key, TimeSpan keep) =>
        _db.StringSetAsync($"{_prefix}once:{key}", "1", keep, When.NotExists);

    public Task IncrementAsync(string campaignId, string counter, long by = 1) =>
        _db.HashIncrementAsync($"{_prefix}campaign:{campaignId}", counter, by);

    public async Task<IReadOnlyDictionary<string, long>> CampaignCountsAsync(string campaignId)
    {
        var entries = await _db.HashGetAllAsync($"{_prefix}campaign:{campaignId}");
        return entries.ToDictionary(e => e.Name.ToString(), e => (long)e.Value);
    }

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();
}
