using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Streams.Chaos;

/// <summary>One call as the gateway saw it: when it came and went, and what it did with the message.</summary>
public sealed record GatewayCall(string RequestId, string To, DateTimeOffset Start, DateTimeOffset End, string Answer, bool Taken);

/// <summary>
/// A loopback SMS gateway (the pipeline's `http` provider type) that records every call and misbehaves on purpose:
/// 429 and 503 (it did not take the message: a retry is right), a 500 after taking it, and a timeout after taking it
/// (the caller cannot know). "Taken" is what reached the handset; a request id taken twice is a duplicate.
/// </summary>
public sealed class FakeGateway : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Random _random;
    private readonly double _faultRate;
    private readonly TimeSpan _hang;
    public ConcurrentQueue<GatewayCall> Calls { get; } = new();
    public string Url { get; }

    private FakeGateway(WebApplication app, string url, int seed, double faultRate, TimeSpan hang)
    {
        _app = app;
        Url = url;
        _random = new Random(seed);
        _faultRate = faultRate;
        _hang = hang;
    }

    public static async Task<FakeGateway> StartAsync(int seed, double faultRate, TimeSpan hang)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        FakeGateway? gateway = null;
        // A lambda over HttpContext alone is a RequestDelegate, whose returned IResult nobody runs: run it here.
        app.MapPost("/send", async (HttpContext http) => await (await gateway!.HandleAsync(http)).ExecuteAsync(http));
        await app.StartAsync();
        gateway = new FakeGateway(app, app.Urls.First(), seed, faultRate, hang);
        return gateway;
    }

    private async Task<IResult> HandleAsync(HttpContext http)
    {
        var start = DateTimeOffset.UtcNow;
        using var body = await JsonDocument.ParseAsync(http.Request.Body);
        var reference = body.RootElement.GetProperty("reference").GetString()!;
        var to = body.RootElement.GetProperty("to").GetString()!;
        double roll;
        lock (_random) roll = _random.NextDouble();
        var quarter = _faultRate / 4;
        (string answer, bool taken, IResult result) = roll switch
        {
            _ when roll < quarter => ("429", false, Results.Json(new { error = "slow down" }, statusCode: 429)),
            _ when roll < 2 * quarter => ("503", false, Results.Json(new { error = "unavailable" }, statusCode: 503)),
            _ when roll < 3 * quarter => ("500-after-accept", true, Results.Json(new { error = "internal" }, statusCode: 500)),
            _ when roll < 4 * quarter => ("timeout-after-accept", true, Results.Json(new { id = "gw-" + reference })),
            _ => ("200", true, Results.Json(new { id = "gw-" + reference })),
        };
        if (answer == "timeout-after-accept")
        {
            // Taken now; the answer comes after the caller gave up (or the caller dies first).
            try { await Task.Delay(_hang, http.RequestAborted); } catch (OperationCanceledException) { }
        }
        Calls.Enqueue(new GatewayCall(reference, to, start, DateTimeOffset.UtcNow, answer, taken));
        return result;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
