using Streams.Core;
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

    // ARGV: count, then per request: member, counter count, then per counter: kind (u|m), limit, keep ms.
    // KEYS: every counter's key, in the same order. Per request: "" when denied (with the reason index
    // in the second array), else "+" and one 0/1 per counter saying whether it took a slot.
    private const string TakeSlotsScript = """
        local out = {}
        local a, k = 2, 1
        for r = 1, tonumber(ARGV[1]) do
          local member, n = ARGV[a], tonumber(ARGV[a + 1])
          a = a + 2
          local denied = 0
          for j = 0, n - 1 do
            local kind, limit, key = ARGV[a + j * 3], tonumber(ARGV[a + j * 3 + 1]), KEYS[k + j]
            if denied == 0 then
              if kind == 'u' then
                if redis.call('SISMEMBER', key, member) == 0 and redis.call('SCARD', key) >= limit then denied = j + 1 end
              elseif tonumber(redis.call('GET', key) or '0') >= limit then denied = j + 1 end
            end
          end
          if denied > 0 then
            out[r] = '-' .. denied
          else
            local added = '+'
            for j = 0, n - 1 do
              local kind, keep, key = ARGV[a + j * 3], ARGV[a + j * 3 + 2], KEYS[k + j]
              if kind == 'u' then
                added = added .. redis.call('SADD', key, member)
              else
                redis.call('INCR', key)
                added = added .. '1'
              end
              redis.call('PEXPIRE', key, keep)
            end
            out[r] = added
          end
          a = a + n * 3
          k = k + n
        end
        return out
        """;

    private const string ReleaseScript = """
        for j = 1, #KEYS do
          if ARGV[j + 1] == 'u' then redis.call('SREM', KEYS[j], ARGV[1])
          elseif tonumber(redis.call('GET', KEYS[j]) or '0') > 0 then redis.call('DECR', KEYS[j]) end
        end
        return 1
        """;

    // GCRA in microseconds: ARGV now, interval, tolerance, wanted, keep ms. Same steps as Gcra.Take.
    private const string PaceScript = """
        local now, interval, tolerance, wanted = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
        local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
        if tat < now then tat = now end
        local granted = 0
        while granted < wanted and tat - now <= tolerance do
          tat = tat + interval
          granted = granted + 1
        end
        redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', ARGV[5])
        local retry = tat - now - tolerance
        if retry < 0 then retry = 0 end
        return {granted, string.format('%.0f', retry)}
        """;

    // Consent as "epoch-ms|0/1"; a change older than the stored one is ignored.
    private const string ConsentScript = """
        local v = redis.call('GET', KEYS[1])
        if v then
          local at = tonumber(string.match(v, '^(%d+)|'))
          if at > tonumber(ARGV[1]) then return 0 end
        end
        redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2])
        return 1
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

    public async Task<IReadOnlyList<string?>> SentDetailsAsync(IReadOnlyList<string> requestIds)
    {
        if (requestIds.Count == 0) return [];
        var values = await _db.StringGetAsync([.. requestIds.Select(SendKey)]);
        return [.. values.Select(v => v.HasValue && ((string)v!).StartsWith("sent|", StringComparison.Ordinal) ? ((string)v!)[5..] : null)];
    }

    public Task RememberAsync(string key, string value, TimeSpan keep) => _db.StringSetAsync($"{_prefix}note:{key}", value, keep);

    public async Task<string?> RecallAsync(string key) => await _db.StringGetAsync($"{_prefix}note:{key}") is { HasValue: true } v ? (string?)v : null;

    public Task UnmarkOnceAsync(string key) => _db.KeyDeleteAsync($"{_prefix}once:{key}");

    public Task<bool> TryMarkOnceAsync(string key, TimeSpan keep) =>
        _db.StringSetAsync($"{_prefix}once:{key}", "1", keep, When.NotExists);

    public async Task<IReadOnlyList<SlotGrant>> TakeSlotsAsync(IReadOnlyList<SlotRequest> requests)
    {
        if (requests.Count == 0) return [];
        var keys = new List<RedisKey>();
        var args = new List<RedisValue> { requests.Count };
        foreach (var request in requests)
        {
            args.Add(request.Member);
            args.Add(request.Counters.Count);
            foreach (var c in request.Counters)
            {
                keys.Add($"{_prefix}slots:{c.Key}");
                args.Add(c.Kind == CounterKind.Users ? "u" : "m");
                args.Add(c.Limit);
                args.Add((long)c.Keep.TotalMilliseconds);
            }
        }
        var raw = (RedisResult[])(await _db.ScriptEvaluateAsync(TakeSlotsScript, [.. keys], [.. args]))!;
        return requests.Select((request, i) =>
        {
            var answer = (string)raw[i]!;
            return answer[0] == '-'
                ? new SlotGrant(request.Counters[int.Parse(answer[1..], System.Globalization.CultureInfo.InvariantCulture) - 1].Reason, [])
                : new SlotGrant(null, answer[1..].Select(ch => ch == '1').ToList());
        }).ToList();
    }

    public Task ReleaseSlotsAsync(SlotRequest request, SlotGrant grant)
    {
        var taken = request.Counters.Where((_, i) => i < grant.Added.Count && grant.Added[i]).ToList();
        if (taken.Count == 0) return Task.CompletedTask;
        return _db.ScriptEvaluateAsync(ReleaseScript, [.. taken.Select(c => (RedisKey)$"{_prefix}slots:{c.Key}")],
            [request.Member, .. taken.Select(c => (RedisValue)(c.Kind == CounterKind.Users ? "u" : "m"))]);
    }

    public async Task<Pace> PaceAsync(string key, double perSecond, int burst, int wanted, DateTimeOffset now)
    {
        var interval = Gcra.Interval(perSecond);
        var tolerance = interval * (Math.Max(1, burst) - 1);
        var raw = (RedisResult[])(await _db.ScriptEvaluateAsync(PaceScript, [$"{_prefix}pace:{key}"],
            [Gcra.Micros(now), interval, tolerance, wanted, 60_000]))!;
        return new Pace((int)raw[0], TimeSpan.FromMicroseconds(long.Parse((string)raw[1]!, System.Globalization.CultureInfo.InvariantCulture)));
    }

    public Task SetOptOutAsync(string subject, bool optedOut, DateTimeOffset at) =>
        _db.ScriptEvaluateAsync(ConsentScript, [$"{_prefix}consent:{subject}"], [at.ToUnixTimeMilliseconds(), optedOut ? "1" : "0"]);

    public async Task<IReadOnlyList<bool>> OptedOutAsync(IReadOnlyList<IReadOnlyList<string>> subjects)
    {
        var keys = subjects.SelectMany(l => l).Distinct().ToArray();
        if (keys.Length == 0) return subjects.Select(_ => false).ToList();
        var values = await _db.StringGetAsync([.. keys.Select(k => (RedisKey)$"{_prefix}consent:{k}")]);
        var optedOut = keys.Zip(values).Where(kv => kv.Second.HasValue && ((string)kv.Second!).EndsWith("|1", StringComparison.Ordinal))
            .Select(kv => kv.First).ToHashSet();
        return subjects.Select(l => l.Any(optedOut.Contains)).ToList();
    }

    public Task IncrementAsync(string campaignId, string counter, long by = 1) =>
        _db.HashIncrementAsync($"{_prefix}campaign:{campaignId}", counter, by);

    public async Task<IReadOnlyDictionary<string, long>> CampaignCountsAsync(string campaignId)
    {
        var entries = await _db.HashGetAllAsync($"{_prefix}campaign:{campaignId}");
        return entries.ToDictionary(e => e.Name.ToString(), e => (long)e.Value);
    }

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();
}
