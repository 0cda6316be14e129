using System.Diagnostics;
using System.Text.Json;

using Streams.Tests;

namespace Streams.Cli.Tests;

/// <summary>`streams run --embedded` in one process, driven by the other commands in others, as a user would.</summary>
public sealed class EmbeddedRunTests : IDisposable
{
    private readonly Cli _cli = new();

    [Fact]
    public async Task Commands_find_the_embedded_pipeline_and_drive_a_campaign_through_to_the_report()
    {
        var spec = _cli.File("welcome.yaml", """
            id: welcome
            name: Welcome
            type: live
            who: {trigger: {event: Signed Up}}
            what: {provider: sandbox, from: "+14155550100", text: "Welcome {{ profile.first_name | default: 'friend' }}!"}
            """);
        var profiles = _cli.File("profiles.jsonl", """
            {"user_id":"u1","ts":"2026-11-01T08:00:00Z","phone":"+919876543210","props":{"first_name":"Asha"}}
            {"user_id":"u2","ts":"2026-11-01T08:00:00Z","phone":"+919876543211","sms_opt_in":false}
            """);
        var events = _cli.File("events.jsonl", """
            {"user_id":"u1","name":"Signed Up","ts":"2026-12-01T10:00:00Z"}
            {"user_id":"u2","name":"Signed Up","ts":"2026-12-01T10:00:00Z"}
            """);

        using var run = _cli.Start("run", "--embedded");
        try
        {
            var embedded = Path.Combine(_cli.Dir, ".streams", "embedded.json");
            var waited = Stopwatch.StartNew();
            while (!File.Exists(embedded) && waited.Elapsed < TimeSpan.FromSeconds(60) && !run.HasExited) await Task.Delay(100);
            Assert.True(File.Exists(embedded), "run --embedded did not write .streams/embedded.json");
            var info = JsonDocument.Parse(File.ReadAllText(embedded)).RootElement;
            Assert.StartsWith("127.0.0.1:", info.GetProperty("kafka").GetString());
            Assert.StartsWith("http://127.0.0.1:", info.GetProperty("http").GetString());

            // Against the running stack's (empty) analytics, apply also gives the campaign's reach.
            Assert.Equal(["applied welcome v1", $"{spec}: estimate: 0 qualified, 0 reachable, 0 cost units (campaign estimate -f {spec} for the breakdown)"],
                (await Ok("campaign", "apply", "-f", spec)).Trim().Split('\n'));
            Assert.StartsWith("unchanged welcome v1\n", await Ok("campaign", "apply", "-f", spec));
            Assert.Contains("\"id\":\"welcome\",\"version\":1,\"status\":\"active\"", await Ok("campaign", "list", "--format", "json"));
            Assert.Equal("sent 2 profiles to sms.profiles", (await Ok("profiles", "send", "-f", profiles)).Trim());
            Assert.Equal("sent 2 events to sms.events", (await Ok("events", "send", "-f", events)).Trim());

            // The sink stores each topic as it reads it (requests, results), so the report is whole a moment after
            // the delivery report, not at once: wait for the whole funnel.
            const string funnel = """{"campaign_id":"welcome","zone":"UTC","goal":null,"funnel":{"qualified":2,"suppressed":{"opted_out":1},"sent":1,"delivered":1,"failed":0,"failed_by_reason":{},"expired":0,"ambiguous":0,"pending":0,"converted":0},""";
            var report = "";
            waited.Restart();
            while (!report.Contains(funnel, StringComparison.Ordinal) && waited.Elapsed < TimeSpan.FromSeconds(60))
            {
                report = await Ok("report", "--campaign", "welcome", "--format", "json");
                await Task.Delay(200);
            }
            Assert.True(report.Contains(funnel, StringComparison.Ordinal), report);
            var table = await Ok("report");
            Assert.Contains("welcome", table);
            Assert.Contains("opted_out=1", table);
            Assert.Contains("<svg class=\"funnel\"", await Ok("report", "--format", "html"));
            Assert.StartsWith("campaign_id,day,qualified,", await Ok("report", "--format", "csv"));
            // The running pipeline serves the page itself.
            using (var http = new HttpClient())
            {
                var page = await http.GetAsync(new Uri(new Uri(info.GetProperty("http").GetString()!), "report"));
                Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
                Assert.Contains("<svg class=\"funnel\"", await page.Content.ReadAsStringAsync());
                Assert.Equal(400, (int)(await http.GetAsync(new Uri(new Uri(info.GetProperty("http").GetString()!), "report?from=yesterday"))).StatusCode);
            }

            // Each user's story, from the running pipeline's store.
            var asha = await Ok("why", "--campaign", "welcome", "--user", "u1");
            Assert.Contains("requested: triggered by Signed Up at 2026-12-01T10:00:00Z", asha);
            Assert.Contains("sent via sandbox", asha);
            Assert.Contains("not sent: opted_out", await Ok("why", "--user", "u2"));

            // With data flowing, apply checks template variables against the properties seen so far.
            var typo = _cli.File("typo.yaml", File.ReadAllText(spec).Replace("id: welcome", "id: typo").Replace("profile.first_name", "profile.frist_name"));
            var applied = await Ok("campaign", "apply", "-f", typo);
            Assert.Contains($"warning: {typo}: what.text: profile.frist_name matches no profile property seen so far (first_name)", applied);
            Assert.Contains("applied typo v1", applied);

            // A test SMS rendered with a stored user's profile.
            var test = await Ok("campaign", "test", "-f", spec, "--to", "+919876543299", "--user", "u1");
            Assert.Contains("text:       Welcome Asha!", test);
            var missing = await _cli.RunAsync("campaign", "test", "-f", spec, "--to", "+919876543299", "--user", "nobody");
            Assert.Equal(["streams: --user nobody: no profile stored for this user"], missing.ErrLines);

            Assert.Equal("welcome v2 paused", (await Ok("campaign", "pause", "welcome")).Trim());
            Assert.Contains("\"status\": \"paused\"", await Ok("campaign", "get", "welcome"));
            Assert.Equal("welcome v3 active", (await Ok("campaign", "resume", "welcome")).Trim());
            Assert.Equal("welcome v4 stopped", (await Ok("campaign", "stop", "welcome")).Trim());
            var resume = await _cli.RunAsync("campaign", "resume", "welcome");
            Assert.Equal(["streams: campaign 'welcome' is stopped; apply it again to start a new version"], resume.ErrLines);

            var outbox = File.ReadAllLines(Path.Combine(_cli.Dir, ".streams", "outbox.jsonl"));
            Assert.Equal(2, outbox.Length); // the campaign's message and the test SMS
            var line = JsonDocument.Parse(outbox[0]).RootElement;
            Assert.Equal(("u1", "+919876543210", "Welcome Asha!", "GSM-7", 1),
                (line.GetProperty("user_id").GetString(), line.GetProperty("to").GetString(), line.GetProperty("text").GetString(),
                 line.GetProperty("encoding").GetString(), line.GetProperty("segments").GetInt32()));
        }
        finally
        {
            if (!run.HasExited)
            {
                Process.Start("kill", ["-TERM", run.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
                if (!run.WaitForExit(20_000)) run.Kill(entireProcessTree: true);
            }
        }
        Assert.Equal(0, run.ExitCode);
        Assert.False(File.Exists(Path.Combine(_cli.Dir, ".streams", "embedded.json")), "embedded.json is removed when run stops");
    }

    /// <summary>README's walkthrough: run --embedded with a configuration, apply, send, report, restart, report again.</summary>
    [Fact]
    public async Task The_embedded_stack_honours_the_configuration_and_keeps_everything_across_a_restart()
    {
        // The files the README's walkthrough uses, as they are in the repository.
        string Example(string name) => _cli.File(name, File.ReadAllText(Path.Combine(Streams.Tests.Repository.Root, "examples", "walkthrough", name)));
        var config = Example("streams.yaml");
        var welcome = Example("welcome.yaml");
        var promo = Example("promo.yaml");
        var profiles = Example("profiles.jsonl");
        var first = Example("events-1.jsonl");
        var second = Example("events-2.jsonl");
        var signedUp = Example("signed-up.yaml");
        // One campaign's funnel in the JSON report.
        async Task<string> Report(string expected, string campaign)
        {
            var report = "";
            var waited = Stopwatch.StartNew();
            while (!report.Contains(expected, StringComparison.Ordinal) && waited.Elapsed < TimeSpan.FromSeconds(60))
            {
                report = await Ok("report", "--campaign", campaign, "--format", "json", "--config", config);
                await Task.Delay(200);
            }
            Assert.Contains(expected, report);
            return report;
        }

        var run = await StartAsync("--config", config);
        try
        {
            Assert.Contains("applied welcome v1", await Ok("campaign", "apply", "-f", welcome, "--config", config));
            Assert.Contains("applied promo v1", await Ok("campaign", "apply", "-f", promo, "--config", config));
            await Ok("profiles", "send", "-f", profiles, "--config", config);
            await Ok("events", "send", "-f", first, "--config", config);
            // limits.per_user.day: 1 from the configuration: u1's second message of the day is capped.
            await Report("\"funnel\":{\"qualified\":1,\"suppressed\":{\"frequency_capped\":1}", "promo");
            await Report("\"funnel\":{\"qualified\":1,\"suppressed\":{},\"sent\":1,\"delivered\":1", "welcome");
            // A saved segment over what the running stack holds (its DuckDB file, through its HTTP side).
            Assert.Contains("applied segment signed-up v1", await Ok("segment", "apply", "-f", signedUp, "--config", config));
            var exported = await Eventually.Async(() => Ok("segment", "export", "signed-up", "--format", "csv", "--config", config), e => e.Contains("u1", StringComparison.Ordinal));
            Assert.Equal("user_id,phone,timezone\nu1,+919876543211,UTC\n", exported);
            Assert.Equal("1", (await Ok("segment", "count", "signed-up", "--config", config)).Trim().Split('\n')[^1]);
        }
        finally
        {
            await StopAsync(run);
        }

        run = await StartAsync("--config", config);
        try
        {
            var lines = await ReadLinesUntilRunningAsync(run);
            Assert.Contains(lines, l => l.StartsWith("streams: embedded stack in ", StringComparison.Ordinal) && !l.Contains("(0 records restored)", StringComparison.Ordinal));
            Assert.Contains("\"id\":\"welcome\",\"version\":1,\"status\":\"active\"", await Ok("campaign", "list", "--format", "json", "--config", config));
            await Report("\"funnel\":{\"qualified\":1,\"suppressed\":{},\"sent\":1,\"delivered\":1", "welcome");
            await Ok("events", "send", "-f", second, "--config", config);
            // The cap and the reach limit count what was sent before the restart: u1 stays capped, one of u2/u3 gets the last place.
            await Report("\"funnel\":{\"qualified\":2,\"suppressed\":{\"frequency_capped\":2}", "promo");
            await Report("\"funnel\":{\"qualified\":3,\"suppressed\":{\"limit_reached\":1},\"sent\":2,\"delivered\":2", "welcome");
            Assert.Equal(2, File.ReadAllLines(Path.Combine(_cli.Dir, ".streams", "outbox.jsonl")).Length);
        }
        finally
        {
            await StopAsync(run);
        }
    }

    private readonly Dictionary<Process, List<string>> _firstLines = [];

    private async Task<Process> StartAsync(params string[] args)
    {
        var run = _cli.Start(["run", "--embedded", .. args]);
        var embedded = Path.Combine(_cli.Dir, ".streams", "embedded.json");
        var lines = await Cli.RunningAsync(run);
        Assert.True(File.Exists(embedded));
        _firstLines[run] = lines;
        return run;
    }

    private Task<List<string>> ReadLinesUntilRunningAsync(Process run) => Task.FromResult(_firstLines[run]);

    private static async Task StopAsync(Process run)
    {
        if (!run.HasExited)
        {
            Process.Start("kill", ["-TERM", run.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            await run.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        Assert.Equal(0, run.ExitCode);
    }

    private async Task<string> Ok(params string[] args)
    {
        var r = await _cli.RunAsync(args);
        Assert.True(r.ExitCode == 0, $"streams {string.Join(' ', args)} exited {r.ExitCode}: {r.Err}");
        return r.Out;
    }

    public void Dispose() => _cli.Dispose();
}
