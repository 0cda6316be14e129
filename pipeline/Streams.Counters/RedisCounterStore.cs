using System.Collections.Concurrent;
using System.Globalization;
using Streams.Core;
using StackExchange.Redis;

namespace Streams.Counters;

/// <summary>The counters cannot be trusted (no epoch): nothing may be handed over until they are rebuilt.</summary>
public sealed class CountersNotReadyException(string message) : Exception(message);

/// <summary>Redis implementation; each operation is one atomic command or Lua script, so any number of dispatchers can share it.</summary>
public sealed class RedisCounterStore : ICounterStore
{
    // A send key holds "claimed|owner|epoch-ms" while a request is with its provider, then "sent|detail" (or
    // "ambiguous|detail" when the provider may or may not have it).
    // A counter is a hash: field = what it counts (the user for reach limits, the request for caps), value = the
    // request that took the place. A place already held passes without taking another; a full counter denies.
    // ARGV: owner, now ms, keep ms, wanted, item count; per item: request, user, probe (0, 1, or the stop to record when
    // the probe passes), counter count, then per
    // counter: kind (u|m), limit, keep ms, reason. KEYS: per item its send key, then its counters' keys.
    // A denial is the request's outcome for good: its send key becomes "done|suppressed|reason", so a redelivery (after
    // the campaign completed, or on another day) reports the same stop instead of a second, different one.
    // Answers per judged item: W | S|detail | A|detail | O|status|reason | C|owner|ms | D|index | P. Stops before the first send once `wanted` are won.
    // KEYS[1] is the epoch: without it (a Redis that lost its data) nothing is handed over, atomically so.
    private const string HandOverScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return {'E'} end
        local owner, now, keep, wanted, count = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
        local mine = 'claimed|' .. owner .. '|'
        local a, k, won, out = 6, 2, 0, {}
        for i = 1, count do
          local rid, user, probeArg, n = ARGV[a], ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3])
          local probe = probeArg ~= '0'
          if not probe and won >= wanted then break end
          a = a + 4
          local sendKey = KEYS[k]
          k = k + 1
          local v = redis.call('GET', sendKey)
          local answer
          if v and string.sub(v, 1, 5) == 'sent|' then
            answer = 'S|' .. string.sub(v, 6)
          elseif v and string.sub(v, 1, 10) == 'ambiguous|' then
            answer = 'A|' .. string.sub(v, 11)
          elseif v and string.sub(v, 1, 5) == 'done|' then
            answer = 'O|' .. string.sub(v, 6)
          elseif v and string.sub(v, 1, #mine) ~= mine then
            answer = 'C|' .. string.sub(v, 9)
          elseif probe then
            -- A probe looks and takes nothing.
            local denied = 0
            for j = 0, n - 1 do
              local key, kind, limit = KEYS[k + j], ARGV[a + j * 4], tonumber(ARGV[a + j * 4 + 1])
              local member = rid
              if kind == 'u' then member = user end
              if redis.call('HEXISTS', key, member) == 0 and redis.call('HLEN', key) >= limit then
                denied = j + 1
                break
              end
            end
            if denied > 0 then
              redis.call('SET', sendKey, 'done|suppressed|' .. ARGV[a + (denied - 1) * 4 + 3], 'PX', keep)
              answer = 'D|' .. denied
            else
              if probeArg ~= '1' then redis.call('SET', sendKey, 'done|suppressed|' .. probeArg, 'PX', keep) end
              answer = 'P'
            end
          else
            -- Take each place in order; a place that was not held and is now over its limit denies the request, and
            -- what this request took in this step is given back (the script is atomic: nobody sees it).
            local denied, taken = 0, {}
            for j = 0, n - 1 do
              local key, kind, limit = KEYS[k + j], ARGV[a + j * 4], tonumber(ARGV[a + j * 4 + 1])
              local member = rid
              if kind == 'u' then member = user end
              if redis.call('HSETNX', key, member, rid) == 1 then
                taken[#taken + 1] = {key, member}
                if redis.call('HLEN', key) > limit then
                  denied = j + 1
                  break
                end
              end
            end
            if denied > 0 then
              for _, t in ipairs(taken) do redis.call('HDEL', t[1], t[2]) end
              redis.call('SET', sendKey, 'done|suppressed|' .. ARGV[a + (denied - 1) * 4 + 3], 'PX', keep)
              answer = 'D|' .. denied
            else
              for j = 0, n - 1 do redis.call('PEXPIRE', KEYS[k + j], ARGV[a + j * 4 + 2]) end
              redis.call('SET', sendKey, mine .. now, 'PX', keep)
              won = won + 1
              answer = 'W'
            end
          end
          out[#out + 1] = answer
          a = a + n * 4
          k = k + n
        end
        return out
        """;

    // Per record, KEYS: send key, note key, campaign hash, then its places; ARGV: detail, note ('' for none), request, due
    // ms, info, user, place count, then per place: kind, keep ms. KEYS[1..2] are the pending reports' sorted set and
    // info hash; ARGV[1] keep ms. A place already held (by this request or another of the user) is left as it is.
    private const string RecordScript = """
        local keep = ARGV[1]
        local k, a = 3, 2
        while k <= #KEYS do
          local rid, user, n = ARGV[a + 2], ARGV[a + 5], tonumber(ARGV[a + 6])
          redis.call('SET', KEYS[k], 'sent|' .. ARGV[a], 'PX', keep)
          if ARGV[a + 1] ~= '' then redis.call('SET', KEYS[k + 1], ARGV[a + 1], 'PX', keep) end
          redis.call('HINCRBY', KEYS[k + 2], 'sent', 1)
          redis.call('ZADD', KEYS[1], ARGV[a + 3], rid)
          redis.call('HSET', KEYS[2], rid, ARGV[a + 4])
          for j = 1, n do
            local key, kind, pkeep = KEYS[k + 2 + j], ARGV[a + 5 + j * 2], ARGV[a + 6 + j * 2]
            local member = rid
            if kind == 'u' then member = user end
            if redis.call('HSETNX', key, member, rid) == 1 then redis.call('PEXPIRE', key, pkeep) end
          end
          k = k + 3 + n
          a = a + 7 + n * 2
        end
        return 1
        """;

    // Per release, KEYS: send key, then its counters; ARGV: owner, keep ms, then per release: request, user, outcome,
    // counter count, kinds. The claim (if this owner's) becomes "done|outcome"; an empty outcome just frees it.
    private const string ReleaseScript = """
        local mine = 'claimed|' .. ARGV[1] .. '|'
        local k, a = 1, 3
        while k <= #KEYS do
          local rid, user, outcome, n = ARGV[a], ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3])
          local v = redis.call('GET', KEYS[k])
          if v and string.sub(v, 1, #mine) == mine then
            if outcome == '' then redis.call('DEL', KEYS[k]) else redis.call('SET', KEYS[k], 'done|' .. outcome, 'PX', ARGV[2]) end
          end
          for j = 1, n do
            local member = rid
            if ARGV[a + 3 + j] == 'u' then member = user end
            if redis.call('HGET', KEYS[k + j], member) == rid then redis.call('HDEL', KEYS[k + j], member) end
          end
          k = k + 1 + n
          a = a + 4 + n
        end
        return 1
        """;

    // Due pending reports, each leased (pushed back by the lease) so one process reports it at a time.
    private const string DueScript = """
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
        local out = {}
        for i, rid in ipairs(due) do
          redis.call('ZADD', KEYS[1], ARGV[2], rid)
          out[#out + 1] = rid
          out[#out + 1] = redis.call('HGET', KEYS[2], rid) or ''
        end
        return out
        """;

    // GCRA in microseconds: ARGV now, interval, tolerance, wanted, keep ms.
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

    /// <summary>
    /// Connects without failing when Redis is not there yet: the connection keeps retrying in the background and
    /// every operation fails (RedisConnectionException) until it is back, which callers treat as "wait".
    /// </summary>
    public static async Task<RedisCounterStore> ConnectAsync(string configuration, string prefix = "streams:")
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 5000;
        options.ConnectRetry = 3;
        options.ReconnectRetryPolicy = new ExponentialRetry(250, 5000);
        return new RedisCounterStore(await ConnectionMultiplexer.ConnectAsync(options), prefix);
    }

    public bool IsConnected => _redis.IsConnected;

    public string Prefix => _prefix;

    public IDatabase Database => _db;

    private static readonly ConcurrentDictionary<string, byte[]> Hashes = new();

    /// <summary>
    /// Runs a script by its SHA1 (EVALSHA): the body, up to a few KB, is not sent again with every batch, nor hashed by
    /// Redis on every call. A server that does not know it yet (first use, a restarted or emptied Redis) answers
    /// NOSCRIPT and gets the body once (EVAL, which also caches it there).
    /// </summary>
    private async Task<RedisResult> EvalAsync(string script, RedisKey[] keys, RedisValue[] args)
    {
        var hash = Hashes.GetOrAdd(script, s => System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(s)));
        try
        {
            return await _db.ScriptEvaluateAsync(hash, keys, args);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOSCRIPT", StringComparison.OrdinalIgnoreCase))
        {
            return await _db.ScriptEvaluateAsync(script, keys, args);
        }
    }

    private RedisKey SendKey(string requestId) => $"{_prefix}send:{requestId}";
    private RedisKey SlotKey(Slot slot) => $"{_prefix}slots:{slot.Key}";
    private RedisKey CampaignKey(string campaignId) => $"{_prefix}campaign:{campaignId}";
    private RedisKey ReportsDue => $"{_prefix}reports:due";
    private RedisKey ReportsInfo => $"{_prefix}reports:info";

    private static string Kind(Slot slot) => slot.Kind == CounterKind.Users ? "u" : "m";
    private static long Ms(TimeSpan t) => (long)t.TotalMilliseconds;

    public async Task<IReadOnlyList<HandOverResult>> HandOverAsync(IReadOnlyList<HandOver> items, string owner, int wanted, DateTimeOffset now, TimeSpan keep)
    {
        if (items.Count == 0) return [];
        var keys = new List<RedisKey> { EpochKey };
        var args = new List<RedisValue> { owner, now.ToUnixTimeMilliseconds(), Ms(keep), wanted, items.Count };
        foreach (var item in items)
        {
            keys.Add(SendKey(item.RequestId));
            args.Add(item.RequestId);
            args.Add(item.UserId);
            args.Add(item.Probe ? item.Outcome ?? "1" : "0");
            args.Add(item.Slots.Count);
            foreach (var slot in item.Slots)
            {
                keys.Add(SlotKey(slot));
                args.Add(Kind(slot));
                args.Add(slot.Limit);
                args.Add(Ms(slot.Keep));
                args.Add(slot.Reason);
            }
        }
        var raw = (RedisResult[])(await EvalAsync(HandOverScript, [.. keys], [.. args]))!;
        if (raw is [var only] && (string?)only == "E") throw new CountersNotReadyException("the counter store has no epoch: it lost its data or is being rebuilt");
        return raw.Select((r, i) =>
        {
            var answer = (string)r!;
            return answer[0] switch
            {
                'W' => new HandOverResult(HandOverState.Won),
                'P' => new HandOverResult(HandOverState.Passed),
                'S' => new HandOverResult(HandOverState.Sent, answer[2..]),
                'A' => new HandOverResult(HandOverState.Ambiguous, answer[2..]),
                'O' => new HandOverResult(HandOverState.Outcome, answer[2..]),
                'D' => new HandOverResult(HandOverState.Denied, DeniedReason: items[i].Slots[int.Parse(answer[2..], CultureInfo.InvariantCulture) - 1].Reason),
                _ => ForeignClaim(answer[2..]),
            };
        }).ToList();
    }

    private static HandOverResult ForeignClaim(string claim)
    {
        var bar = claim.LastIndexOf('|');
        return bar > 0 && long.TryParse(claim[(bar + 1)..], CultureInfo.InvariantCulture, out var ms)
            ? new HandOverResult(HandOverState.ClaimedByOther, ClaimedBy: claim[..bar], ClaimedAt: DateTimeOffset.FromUnixTimeMilliseconds(ms))
            : new HandOverResult(HandOverState.ClaimedByOther, ClaimedBy: claim, ClaimedAt: DateTimeOffset.UnixEpoch);
    }

    public Task RecordSentAsync(IReadOnlyList<SentRecord> records, TimeSpan keep)
    {
        if (records.Count == 0) return Task.CompletedTask;
        var keys = new List<RedisKey> { ReportsDue, ReportsInfo };
        var args = new List<RedisValue> { Ms(keep) };
        foreach (var r in records)
        {
            var places = r.Slots ?? [];
            keys.Add(SendKey(r.RequestId));
            keys.Add(r.NoteKey is null ? $"{_prefix}note:-" : $"{_prefix}note:{r.NoteKey}");
            keys.Add(CampaignKey(r.CampaignId));
            keys.AddRange(places.Select(SlotKey));
            args.Add(r.Detail);
            args.Add(r.NoteKey is null ? "" : r.Note ?? "");
            args.Add(r.RequestId);
            args.Add(r.ReportDue.ToUnixTimeMilliseconds());
            args.Add(r.ReportInfo);
            args.Add(r.UserId ?? "");
            args.Add(places.Count);
            foreach (var slot in places)
            {
                args.Add(Kind(slot));
                args.Add(Ms(slot.Keep));
            }
        }
        return EvalAsync(RecordScript, [.. keys], [.. args]);
    }

    public Task RecordAmbiguousAsync(IReadOnlyList<(string RequestId, string Detail)> requests, TimeSpan keep)
    {
        if (requests.Count == 0) return Task.CompletedTask;
        var batch = _db.CreateBatch();
        var done = Task.WhenAll(requests.Select(r => batch.StringSetAsync(SendKey(r.RequestId), "ambiguous|" + r.Detail, keep)));
        batch.Execute();
        return done;
    }

    public Task ReleaseAsync(IReadOnlyList<Release> releases, string owner)
    {
        if (releases.Count == 0) return Task.CompletedTask;
        var keys = new List<RedisKey>();
        var args = new List<RedisValue> { owner, Ms(TimeSpan.FromDays(7)) };
        foreach (var r in releases)
        {
            keys.Add(SendKey(r.RequestId));
            keys.AddRange(r.Slots.Select(SlotKey));
            args.Add(r.RequestId);
            args.Add(r.UserId);
            args.Add(r.Outcome);
            args.Add(r.Slots.Count);
            args.AddRange(r.Slots.Select(s => (RedisValue)Kind(s)));
        }
        return EvalAsync(ReleaseScript, [.. keys], [.. args]);
    }

    public async Task<IReadOnlyList<HandOverResult?>> RecordedAsync(IReadOnlyList<string> requestIds)
    {
        if (requestIds.Count == 0) return [];
        var values = await _db.StringGetAsync([.. requestIds.Select(SendKey)]);
        return [.. values.Select(v => (string?)v switch
        {
            { } s when s.StartsWith("sent|", StringComparison.Ordinal) => new HandOverResult(HandOverState.Sent, s[5..]),
            { } s when s.StartsWith("ambiguous|", StringComparison.Ordinal) => new HandOverResult(HandOverState.Ambiguous, s[10..]),
            { } s when s.StartsWith("done|", StringComparison.Ordinal) => new HandOverResult(HandOverState.Outcome, s[5..]),
            _ => (HandOverResult?)null,
        })];
    }

    public async Task<IReadOnlyList<DueReport>> DueReportsAsync(DateTimeOffset now, TimeSpan lease, int max)
    {
        var raw = (RedisResult[])(await EvalAsync(DueScript, [ReportsDue, ReportsInfo],
            [now.ToUnixTimeMilliseconds(), (now + lease).ToUnixTimeMilliseconds(), max]))!;
        var due = new List<DueReport>(raw.Length / 2);
        for (var i = 0; i + 1 < raw.Length; i += 2) due.Add(new DueReport((string)raw[i]!, (string)raw[i + 1]!));
        return due;
    }

    public Task CompleteReportsAsync(IReadOnlyList<string> requestIds)
    {
        if (requestIds.Count == 0) return Task.CompletedTask;
        var batch = _db.CreateBatch();
        var members = requestIds.Select(r => (RedisValue)r).ToArray();
        var done = Task.WhenAll(batch.SortedSetRemoveAsync(ReportsDue, members), batch.HashDeleteAsync(ReportsInfo, members));
        batch.Execute();
        return done;
    }

    public Task RememberAsync(string key, string value, TimeSpan keep) => _db.StringSetAsync($"{_prefix}note:{key}", value, keep);

    public async Task<string?> RecallAsync(string key) => await _db.StringGetAsync($"{_prefix}note:{key}") is { HasValue: true } v ? (string?)v : null;

    private const string RememberOnceScript = """
        local v = redis.call('GET', KEYS[1])
        if v then return v end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        return ''
        """;

    public async Task<string?> RememberOnceAsync(string key, string value, TimeSpan keep)
    {
        var previous = (string?)await EvalAsync(RememberOnceScript, [$"{_prefix}note:{key}"], [value, Ms(keep)]);
        return string.IsNullOrEmpty(previous) ? null : previous;
    }

    public Task UnmarkOnceAsync(string key) => _db.KeyDeleteAsync($"{_prefix}once:{key}");

    public Task<bool> IsMarkedAsync(string key) => _db.KeyExistsAsync($"{_prefix}once:{key}");

    public Task<bool> TryMarkOnceAsync(string key, TimeSpan keep) =>
        _db.StringSetAsync($"{_prefix}once:{key}", "1", keep, When.NotExists);

    public async Task<Pace> PaceAsync(string key, double perSecond, int burst, int wanted, DateTimeOffset now)
    {
        var interval = Gcra.Interval(perSecond);
        var tolerance = interval * (Math.Max(1, burst) - 1);
        var raw = (RedisResult[])(await EvalAsync(PaceScript, [$"{_prefix}pace:{key}"],
            [Gcra.Micros(now), interval, tolerance, wanted, 60_000]))!;
        return new Pace((int)raw[0], TimeSpan.FromMicroseconds(long.Parse((string)raw[1]!, CultureInfo.InvariantCulture)));
    }

    public Task SetOptOutAsync(string subject, bool optedOut, DateTimeOffset at) =>
        EvalAsync(ConsentScript, [$"{_prefix}consent:{subject}"], [at.ToUnixTimeMilliseconds(), optedOut ? "1" : "0"]);

    public async Task<IReadOnlyList<bool>> OptedOutAsync(IReadOnlyList<IReadOnlyList<string>> subjects)
    {
        var keys = subjects.SelectMany(l => l).Distinct().ToArray();
        if (keys.Length == 0) return subjects.Select(_ => false).ToList();
        var values = await _db.StringGetAsync([.. keys.Select(k => (RedisKey)$"{_prefix}consent:{k}")]);
        var optedOut = keys.Zip(values).Where(kv => kv.Second.HasValue && ((string)kv.Second!).EndsWith("|1", StringComparison.Ordinal))
            .Select(kv => kv.First).ToHashSet();
        return subjects.Select(l => l.Any(optedOut.Contains)).ToList();
    }

    public Task CountAsync(IReadOnlyList<(string CampaignId, string Counter)> counts)
    {
        if (counts.Count == 0) return Task.CompletedTask;
        var batch = _db.CreateBatch();
        var done = Task.WhenAll(counts.GroupBy(c => c).Select(g => batch.HashIncrementAsync(CampaignKey(g.Key.CampaignId), g.Key.Counter, g.Count())));
        batch.Execute();
        return done;
    }

    public async Task<IReadOnlyDictionary<string, long>> CampaignCountsAsync(string campaignId)
    {
        var entries = await _db.HashGetAllAsync(CampaignKey(campaignId));
        return entries.ToDictionary(e => e.Name.ToString(), e => (long)e.Value);
    }

    private RedisKey EpochKey => $"{_prefix}epoch";

    public async Task<string?> EpochAsync() => await _db.StringGetAsync(EpochKey) is { HasValue: true } v ? (string?)v : null;

    public Task<bool> SetEpochAsync(string epoch) => _db.StringSetAsync(EpochKey, epoch, when: When.NotExists);

    public Task<bool> TryLockAsync(string name, string owner, TimeSpan lease) => _db.StringSetAsync($"{_prefix}lock:{name}", owner, lease, When.NotExists);

    private const string UnlockScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
        return 1
        """;

    public Task UnlockAsync(string name, string owner) => EvalAsync(UnlockScript, [$"{_prefix}lock:{name}"], [owner]);

    public async Task RestoreAsync(IReadOnlyList<RestoredSend> sends)
    {
        foreach (var chunk in sends.Chunk(500))
        {
            var batch = _db.CreateBatch();
            var writes = new List<Task>();
            foreach (var s in chunk)
            {
                writes.Add(batch.StringSetAsync(SendKey(s.RequestId), s.SendValue, s.SendKeep));
                foreach (var (kind, key, keep) in s.Places)
                {
                    RedisKey slot = $"{_prefix}slots:{key}";
                    writes.Add(batch.HashSetAsync(slot, kind == CounterKind.Users ? s.UserId : s.RequestId, s.RequestId, When.NotExists));
                    writes.Add(batch.KeyExpireAsync(slot, keep, ExpireWhen.Always));
                }
                if (s.NoteKey is not null && s.Note is not null) writes.Add(batch.StringSetAsync($"{_prefix}note:{s.NoteKey}", s.Note, s.SendKeep));
                if (s.ReportDue is { } due && s.ReportInfo is not null)
                {
                    writes.Add(batch.SortedSetAddAsync(ReportsDue, s.RequestId, due.ToUnixTimeMilliseconds()));
                    writes.Add(batch.HashSetAsync(ReportsInfo, s.RequestId, s.ReportInfo));
                }
            }
            batch.Execute();
            await Task.WhenAll(writes);
        }
    }

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();
}
