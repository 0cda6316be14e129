using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Streams.Tests;

/// <summary>A received request, as the fake provider saw it.</summary>
public sealed record Received(string Method, string PathAndQuery, string? Authorization, string? ContentType, string Body);

/// <summary>What the fake answers: status, body, and how long it takes (to test timeouts and slow answers).</summary>
public sealed record Reply(int Status, string Body, TimeSpan Delay = default, string? RetryAfter = null);

/// <summary>
/// A loopback HTTP server standing in for a provider that cannot run here. It records every request exactly as
/// received and answers with what the test scripts, so tests check the documented request shape and can inject
/// 429s, 5xx, timeouts and slow answers.
/// </summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    public ConcurrentQueue<Received> Requests { get; } = new();
    public Func<Received, Reply> Answer { get; set; } = _ => new Reply(200, "{}");
    public string Url { get; }

    private LoopbackServer(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public static async Task<LoopbackServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        LoopbackServer? server = null;
        app.Run(async http =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var received = new Received(http.Request.Method, http.Request.Path + http.Request.QueryString,
                http.Request.Headers.Authorization.FirstOrDefault(), http.Request.ContentType, await reader.ReadToEndAsync());
            server!.Requests.Enqueue(received);
            var reply = server.Answer(received);
            if (reply.Delay > TimeSpan.Zero)
            {
                try { await Task.Delay(reply.Delay, http.RequestAborted); }
                catch (OperationCanceledException) { return; }
            }
            http.Response.StatusCode = reply.Status;
            if (reply.RetryAfter is not null) http.Response.Headers.RetryAfter = reply.RetryAfter;
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(reply.Body);
        });
        await app.StartAsync();
        server = new LoopbackServer(app, app.Urls.First());
        return server;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
