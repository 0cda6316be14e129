using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Counters;
using Streams.Dispatcher;
using Streams.Dispatcher.Providers;
using Streams.Tests;

namespace Streams.Benchmarks;

/// <summary>
/// Messages per second through the whole decision chain on Redis: consent, decision, claim, the
/// batch's caps and limits, a provider that accepts at once, and the sent record. Beside it, in the
/// same run: a plain pipelined INCR loop on the same Redis (the floor for any Redis-backed chain).
/// Run: dotnet run -c Release --project bench/Streams.Benchmarks -- dispatch [redis] [messages] [batch]
/// </summary>
public static class DispatchBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var redis = args.ElementAtOrDefault(0) ?? "127.0.0.1:6379";
        var messages = int.Parse(args.ElementAtOrDefault(1) ?? "20000", System.Globalization.CultureInfo.InvariantCulture);
        var batchSize = int.Parse(args.ElementAtOrDefault(2) ?? "500", System.Globalization.CultureInfo.InvariantCulture);
        var prefix = $"bench-{Guid.NewGuid():N}:";
        var admin = await ConnectionMultiplexer.ConnectAsync($"{redis},allowAdmin=true");
        var server = admin.GetServers()[0];

        var baseline = await BaselineAsync(admin.GetDatabase(), prefix, messages, batchSize);

        await using var counters = await RedisCounterStore.ConnectAsync(redis, prefix);
        await counters.SetEpochAsync("bench");
        var time = TimeProvider.System;
        var campaign = Build.Entry(System.Text.Json.JsonSerializer.Serialize(new
        {
            id = "bench", name = "Bench", type = "live",
            who = new { trigger = new { @event = "Added To Cart" }, reach = new { limit = 10_000_000, daily_limit = 10_000_000 } },
            what = new { provider = "fast", text = "Hi {{ profile.first_name | default: 'there' }}, your {{ event.product }} is waiting." },
        }), at: time.GetUtcNow());
        var handler = new RequestHandler(counters, new FixedProviders(new Fast(), anyName: true), FixedCampaigns.ForAnyId(campaign), time, NullLogger.Instance, "bench", new FrequencyCaps(100, 1000));
        var counting = 0L;
        var requests = Enumerable.Range(0, messages).Select(i => new SmsRequest($"bench-{i}", "bench", 1, $"user-{i}", time.GetUtcNow(),
            new RequestContext("Added To Cart", time.GetUtcNow(), new Dictionary<string, object?> { ["product"] = "Shoes" },
                $"+91987{i % 10_000_000:D7}", "Asia/Kolkata", true, new Dictionary<string, object?> { ["first_name"] = "Asha" }))).ToList();

        var before = Commands(server);
        var clock = Stopwatch.StartNew();
        foreach (var batch in requests.Chunk(batchSize))
        {
            var output = await handler.HandleBatchAsync(batch, CancellationToken.None);
            counting += output.Results.Count(r => r.Status == ResultStatus.Sent);
        }
        clock.Stop();
        var commands = Commands(server) - before;

        Console.WriteLine($"messages: {messages} in batches of {batchSize}; sent {counting}");
        Console.WriteLine($"decision chain on Redis: {messages / clock.Elapsed.TotalSeconds:N0} msg/s ({clock.Elapsed.TotalMilliseconds / messages * 1000:N0} us/msg)");
        Console.WriteLine($"raw pipelined INCR baseline: {baseline:N0} ops/s; ratio chain/baseline: {messages / clock.Elapsed.TotalSeconds / baseline:P1}");
        Console.WriteLine($"redis commands per message: {(double)commands / messages:N2} (INFO commandstats, includes EVAL bodies as one command each)");
        Console.WriteLine($"round trips per message: {RoundTrips(batchSize):N3} (per batch: consent, claims (pipelined), slots (one script), sent records and live counts (pipelined))");
        await admin.DisposeAsync();
        return 0;
    }

    // Per batch: consent, the pipelined claims, the slots script, and the pipelined sent records and live counts.
    private static double RoundTrips(int batch) => 4.0 / batch;

    private static long Commands(IServer server)
    {
        var stats = server.Info("commandstats").SelectMany(g => g);
        return stats.Sum(kv => long.Parse(kv.Value.Split(',')[0].Split('=')[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task<double> BaselineAsync(IDatabase db, string prefix, int messages, int batchSize)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < messages; i += batchSize)
            await Task.WhenAll(Enumerable.Range(i, Math.Min(batchSize, messages - i)).Select(n => db.StringIncrementAsync($"{prefix}baseline:{n % 64}")));
        return messages / clock.Elapsed.TotalSeconds;
    }

    private sealed class Fast : ISmsProvider
    {
        public string Name => "fast";
        public Task<SendOutcome> SendAsync(OutboundSms sms, CancellationToken ct) => Task.FromResult<SendOutcome>(new Accepted("m-" + sms.Request.RequestId));
        public Task<string?> FindAsync(string requestId, CancellationToken ct) => Task.FromResult<string?>(null);
    }
}
