using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Streams.Tests;
using Xunit.Abstractions;

namespace Streams.Cli.Tests;

/// <summary>
/// `streams run` sending through a real Kannel (bearerbox + smsbox + fakesmsc, started by tests/run): a GSM-7 and
/// an emoji (UCS-2) text reach the fake SMSC intact, and Kannel's delivery reports, called back on /webhooks/kannel,
/// end both requests `delivered`.
/// </summary>
public sealed class KannelEndToEndTests(ITestOutputHelper log) : IDisposable
{
    private readonly Cli _cli = new();

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Gsm7_and_emoji_texts_go_through_kannel_and_come_back_delivered()
    {
        var kannel = Services.Kannel;
        var port = FreePort();
        var config = _cli.File("streams.yaml", $$"""
            providers:
              kannel:
                type: kannel
                base_url: "{{kannel}}"
                username: "{{Services.KannelUser}}"
                token_env: STREAMS_TEST_KANNEL_PASSWORD
                from: "12345"
                callback_url: "http://127.0.0.1:{{port}}/webhooks/kannel"
                webhook_secret_env: KANNEL_DLR_SECRET
            """);
        var spec = _cli.File("hello.yaml", """
            id: hello
            name: Hello
            type: live
            who: {trigger: {event: Signed Up}}
            what: {provider: kannel, text: "{{ profile.greeting }}"}
            """);
        var run = Guid.NewGuid().ToString("N")[..6];
        var profiles = _cli.File("profiles.jsonl", $$$"""
            {"user_id":"g-{{{run}}}","ts":"2026-11-01T08:00:00Z","phone":"+919876543210","props":{"greeting":"Hello {{{run}}} from Streams"}}
            {"user_id":"e-{{{run}}}","ts":"2026-11-01T08:00:00Z","phone":"+919876543211","props":{"greeting":"Your cart 🛒 {{{run}}}"}}
            """);
        var events = _cli.File("events.jsonl", $$"""
            {"user_id":"g-{{run}}","name":"Signed Up","ts":"2026-12-01T10:00:00Z"}
            {"user_id":"e-{{run}}","name":"Signed Up","ts":"2026-12-01T10:00:00Z"}
            """);

        using var pipeline = _cli.Start(new Dictionary<string, string> { ["KANNEL_DLR_SECRET"] = "dlr-" + run },
            "run", "--config", config, "--http", $"http://127.0.0.1:{port}");
        try
        {
            await Cli.RunningAsync(pipeline);
            Assert.Equal(0, (await _cli.RunAsync("campaign", "apply", "-f", spec, "--config", config)).ExitCode);
            Assert.Equal(0, (await _cli.RunAsync("profiles", "send", "-f", profiles, "--config", config)).ExitCode);
            Assert.Equal(0, (await _cli.RunAsync("events", "send", "-f", events, "--config", config)).ExitCode);

            var report = "";
            var waited = Stopwatch.StartNew();
            while (!report.Contains("\"delivered\":2", StringComparison.Ordinal) && waited.Elapsed < TimeSpan.FromSeconds(90))
            {
                report = (await _cli.RunAsync("report", "--campaign", "hello", "--format", "json", "--config", config)).Out;
                await Task.Delay(300);
            }
            log.WriteLine(report);
            Assert.Contains("\"sent\":2,\"delivered\":2,\"failed\":0", report);

            // What the fake SMSC received: the GSM-7 text as text, the emoji text as UCS-2 (UTF-16BE, the cart is D83D DED2).
            var received = File.ReadAllLines(Services.KannelLog).Where(l => l.Contains(run, StringComparison.Ordinal) || l.Contains("ucs-2", StringComparison.Ordinal)).ToList();
            Assert.Contains(received, l => l.Contains($"<12345 +919876543210 text Hello {run} from Streams>", StringComparison.Ordinal));
            Assert.Contains(received, l => l.Contains("<12345 +919876543211 ucs-2 ", StringComparison.Ordinal) && l.Contains("%D8%3D%DE%D2", StringComparison.Ordinal));
        }
        finally
        {
            if (!pipeline.HasExited) pipeline.Kill(entireProcessTree: true);
            await pipeline.WaitForExitAsync();
            log.WriteLine(await pipeline.StandardError.ReadToEndAsync());
        }
    }

    public void Dispose() => _cli.Dispose();
}
