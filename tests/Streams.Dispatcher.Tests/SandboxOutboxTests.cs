using Microsoft.Extensions.Time.Testing;
using Streams.Core;
using Streams.Dispatcher.Providers;
using Streams.Tests;

namespace Streams.Dispatcher.Tests;

/// <summary>The sandbox's outbox when several dispatchers write it at once.</summary>
public sealed class SandboxOutboxTests
{
    [Fact]
    public async Task Writers_that_do_not_share_a_lock_in_memory_lose_no_line_of_a_shared_outbox()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir, "real"));
        // The same file under two paths: two sandboxes that share no in-process lock, as two processes would.
        string[] paths = ["real", "a1", "a2", "a3", "a4", "a5", "a6", "a7"];
        foreach (var alias in paths.Skip(1)) Directory.CreateSymbolicLink(Path.Combine(dir, alias), Path.Combine(dir, "real"));
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
        var writers = paths.Select(d => new SandboxProvider("sandbox", Path.Combine(dir, d, "outbox.jsonl"), time)).ToArray();

        const int PerWriter = 1000;
        await Task.WhenAll(writers.Select((w, k) => Task.Run(async () =>
        {
            for (var i = 0; i < PerWriter; i++)
            {
                var request = Build.Request($"w{k}-{i}");
                await w.SendAsync(new OutboundSms(request, "+919876543210", null, "Hi", new SmsInfo("GSM-7", 2, 1)), CancellationToken.None);
            }
        })));

        var lines = File.ReadAllLines(Path.Combine(dir, "real", "outbox.jsonl"));
        Assert.Equal(paths.Length * PerWriter, lines.Select(l => SandboxProvider.TryRead(l)?.RequestId).OfType<string>().Distinct().Count());
    }

    [Fact]
    public async Task A_request_the_index_holds_but_the_outbox_lacks_is_written_once_when_it_comes_again()
    {
        using var dir = new TempDir();
        var counters = TestCounters.Create();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
        var outbox = Path.Combine(dir, "outbox.jsonl");
        var sandbox = new SandboxProvider("sandbox", outbox, time, counters);
        // An attempt took r1 in the index and stopped before its line (its counter-store call timed out after landing).
        await counters.RememberOnceAsync("sandbox:r1", SandboxProvider.MessageId("r1"), TimeSpan.FromDays(1));
        var sms = new OutboundSms(Build.Request("r1"), "+919876543210", null, "Hi", new SmsInfo("GSM-7", 2, 1));

        var first = await sandbox.SendAsync(sms, CancellationToken.None);
        var again = await sandbox.SendAsync(sms, CancellationToken.None);

        Assert.Equal(new Accepted("sbx-r1"), first);
        Assert.Equal(new Accepted("sbx-r1"), again);
        Assert.Equal(["r1"], File.ReadAllLines(outbox).Select(l => SandboxProvider.TryRead(l)!.RequestId));
    }
}
