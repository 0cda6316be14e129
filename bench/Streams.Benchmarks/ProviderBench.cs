using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Counters;
using Streams.Dispatcher;
using Streams.Dispatcher.Providers;
using Streams.Tests;

namespace Streams.Benchmarks;

/// <summary>
/// Messages/s from the dispatcher (RequestHandler: decision, counters in-process, provider, records) to a loopback
/// fake Sinch (batched) and a fake Twilio (one call per message), each beside a raw HttpClient loop sending the same
/// number of messages one POST each, at most the dispatcher's default calls in flight (64), to the same fake server in the same run.
/// Run: dotnet run -c Release --project bench/Streams.Benchmarks -- providers [messages] [batch]
/// </summary>
public static class ProviderBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var messages = int.Parse(args.ElementAtOrDefault(0) ?? "20000", CultureInfo.InvariantCulture);
        var batchSize = int.Parse(args.ElementAtOrDefault(1) ?? "500", CultureInfo.InvariantCulture);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        long calls = 0;
        app.MapPost("/xms/v1/plan/batches", async (HttpContext http) =>
        {
            Interlocked.Increment(ref calls);
            using var reader = new StreamReader(http.Request.Body);
            await reader.ReadToEndAsync();
            return Results.Json(new { id = "b" + Guid.NewGuid().ToString("N") }, statusCode: 201);
        });
        app.MapPost("/2010-04-01/Accounts/AC1/Messages.json", async (HttpContext http) =>
        {
            Interlocked.Increment(ref calls);
            await http.Request.ReadFormAsync();
            return Results.Json(new { sid = "SM" + Guid.NewGuid().ToString("N") }, statusCode: 201);
        });
        await app.StartAsync();
        var url = app.Urls.First();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { Timeout = Timeout.InfiniteTimeSpan };
        var resilience = HttpResilience.Build(new ResilienceSettings(), TimeProvider.System);
        Console.WriteLine($"{messages} messages, dispatcher batches of {batchSize}, fake providers at {url}");

        foreach (var kind in new[] { "sinch", "twilio" })
        {
            ISmsProvider provider = kind == "sinch"
                ? new SinchProvider("sinch", new SinchSettings { BaseUrl = url, ServicePlanId = "plan", Token = "t", From = "+14155550100" }, http, resilience)
                : new TwilioProvider("twilio", new TwilioSettings { BaseUrl = url, AccountSid = "AC1", AuthToken = "t", From = "+14155550100" }, http, resilience);
            // Warm up both paths, then measure the raw loop and the dispatcher back to back.
            await RawAsync(http, url, kind, batchSize, RequestHandler.DefaultConcurrency);
            await DispatchAsync(provider, kind, batchSize, batchSize);
            Interlocked.Exchange(ref calls, 0);
            var raw = await RawAsync(http, url, kind, messages, RequestHandler.DefaultConcurrency);
            var rawCalls = Interlocked.Exchange(ref calls, 0);
            var dispatched = await DispatchAsync(provider, kind, messages, batchSize);
            var dispatchCalls = Interlocked.Exchange(ref calls, 0);
            Console.WriteLine($"{kind}: dispatcher {dispatched:N0} msg/s ({dispatchCalls:N0} HTTP calls); raw HttpClient loop {raw:N0} msg/s ({rawCalls:N0} calls); ratio {dispatched / raw:N2}x");
        }
        await app.StopAsync();
        return 0;
    }

    /// <summary>One POST per message, at most <paramref name="concurrency"/> in flight, each place taken again as soon as its call ends.</summary>
    private static async Task<double> RawAsync(HttpClient http, string url, string kind, int messages, int concurrency)
    {
        var clock = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(concurrency);
        await Task.WhenAll(Enumerable.Range(0, messages).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                using var request = kind == "sinch"
                    ? new HttpRequestMessage(HttpMethod.Post, $"{url}/xms/v1/plan/batches")
                    {
                        Content = new StringContent($$"""{"from":"+14155550100","to":["+9198{{i:D8}}"],"body":"Hi user{{i}}, your cart is waiting","type":"mt_text"}""", System.Text.Encoding.UTF8, "application/json"),
                    }
                    : new HttpRequestMessage(HttpMethod.Post, $"{url}/2010-04-01/Accounts/AC1/Messages.json")
                    {
                        Content = new FormUrlEncodedContent([new("To", $"+9198{i:D8}"), new("From", "+14155550100"), new("Body", $"Hi user{i}, your cart is waiting")]),
                    };
                using var response = await http.SendAsync(request);
                await response.Content.ReadAsStringAsync();
            }
            finally
            {
                gate.Release();
            }
        }));
        return messages / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> DispatchAsync(ISmsProvider provider, string kind, int messages, int batchSize)
    {
        var time = TimeProvider.System;
        var campaign = Build.Entry($$$"""
            {"id": "bench", "name": "Bench", "type": "live", "who": {"trigger": {"event": "Added To Cart"}},
             "what": {"provider": "{{{kind}}}", "from": "+14155550100", "text": "Hi {{ profile.first_name }}, your cart is waiting"}}
            """, at: time.GetUtcNow());
        var counters = await EmbeddedRedis.Start(dataDir: null).ConnectAsync();
        await counters.SetEpochAsync("bench");
        var handler = new RequestHandler(counters, new FixedProviders(provider, anyName: true), FixedCampaigns.ForAnyId(campaign), time, NullLogger.Instance, "bench");
        var run = Guid.NewGuid().ToString("N")[..6];
        var clock = Stopwatch.StartNew();
        for (var start = 0; start < messages; start += batchSize)
        {
            var batch = Enumerable.Range(start, Math.Min(batchSize, messages - start)).Select(i =>
            {
                var ts = time.GetUtcNow();
                return new SmsRequest($"{run}-{i}", "bench", 1, $"u{i}", ts, new RequestContext("Added To Cart", ts, Props.Empty,
                    $"+9198{i:D8}", "Asia/Kolkata", true, new Dictionary<string, object?> { ["first_name"] = $"user{i}" }));
            }).ToList();
            var output = await handler.HandleBatchAsync(batch, CancellationToken.None);
            if (output.Results.Any(r => r.Status != ResultStatus.Sent)) throw new InvalidOperationException($"not sent: {output.Results.First(r => r.Status != ResultStatus.Sent)}");
        }
        return messages / clock.Elapsed.TotalSeconds;
    }
}
