using Streams.Analytics;
using Streams.Kafka;
using Streams.Tests;

namespace Streams.Cli.Tests;

/// <summary>Saved segments as code, end to end: files → sms.segments → counts and exports over ClickHouse.</summary>
public sealed class SegmentCliTests : IDisposable
{
    private readonly Cli _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Segments_are_applied_listed_counted_and_exported_and_a_bad_ref_is_refused_with_its_path()
    {
        using var kafka = new EmbeddedKafka();
        EmbeddedKafka.EnsureTopics(kafka.Bootstrap, Topics.Default);
        var database = "segcli_" + Guid.NewGuid().ToString("N")[..10];
        await using (var store = ClickHouseStore.Create(Services.ClickHouse, database))
        {
            await store.MigrateAsync();
            var now = DateTimeOffset.UtcNow;
            await store.InsertProfilesAsync([
                Build.Profile("u1", now.AddDays(-30), "+919876543210", "Asia/Kolkata", props: ("city", "Mumbai")),
                Build.Profile("u2", now.AddDays(-30), "+14155550100", "America/New_York", props: ("city", "Mumbai")),
                Build.Profile("u3", now.AddDays(-30), props: ("city", "Pune")),
            ]);
            await store.InsertEventsAsync([Build.Event("u1", "App Launched", now.AddDays(-1)), Build.Event("u1", "App Launched", now.AddDays(-2)),
                Build.Event("u2", "App Launched", now.AddDays(-3))]);
        }
        var config = _cli.File("streams.yaml", $"kafka: {{bootstrap: \"{kafka.Bootstrap}\"}}\nclickhouse: {{url: \"{Services.ClickHouse}\", database: {database}}}\n");
        var mumbai = _cli.File("mumbai.yaml", "id: mumbai\nname: Mumbai\nsegment: {profile: {prop: city, op: eq, value: Mumbai}}");
        var regulars = _cli.File("regulars.yaml", "id: mumbai-regulars\nname: Mumbai regulars\nsegment: {all: [{ref: mumbai}, {did: {event: App Launched, count: {gte: 2}, within: 7d}}]}");
        var dangling = _cli.File("dangling.yaml", "id: dangling\nname: Dangling\nsegment: {any: [{ref: mumbai}, {ref: nosuch}]}");
        var bad = _cli.File("bad.yaml", "id: bad\nname: Bad\nsegment: {did: {event: A, count: {between: [3, 1]}}}");

        var r = await _cli.RunAsync("segment", "validate", "-f", mumbai, bad, "--config", config);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"{mumbai}: ok (mumbai)", r.Out);
        Assert.Contains($"{bad}: segment.did.count.between: must be two whole numbers", r.Out);

        // A ref to a segment not saved yet is refused; saved in order, both apply; the same file again changes nothing.
        r = await _cli.RunAsync("segment", "apply", "-f", regulars, "--config", config);
        Assert.Equal([$"streams: {regulars}: segment.all[0].ref: no saved segment 'mumbai'"], r.ErrLines);
        r = await _cli.RunAsync("segment", "apply", "-f", mumbai, regulars, "--config", config);
        Assert.Equal((0, "applied segment mumbai v1\napplied segment mumbai-regulars v1\n"), (r.ExitCode, r.Out));
        r = await _cli.RunAsync("segment", "apply", "-f", mumbai, "--config", config);
        Assert.Equal("segment mumbai unchanged (v1)\n", r.Out);
        r = await _cli.RunAsync("segment", "apply", "-f", dangling, "--config", config);
        Assert.Equal([$"streams: {dangling}: segment.any[1].ref: no saved segment 'nosuch'"], r.ErrLines);

        r = await _cli.RunAsync("segment", "list", "--config", config);
        Assert.Contains("mumbai-regulars", r.Out);
        Assert.Contains("Mumbai regulars", r.Out);
        r = await _cli.RunAsync("segment", "get", "mumbai", "--config", config);
        Assert.Contains("\"city\"", r.Out);

        r = await _cli.RunAsync("segment", "count", "mumbai-regulars", "--config", config);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("1", r.Out.Trim().Split('\n')[^1]);
        r = await _cli.RunAsync("segment", "count", "-f", mumbai, "--config", config);
        Assert.Equal("2", r.Out.Trim().Split('\n')[^1]);

        r = await _cli.RunAsync("segment", "export", "mumbai", "--config", config);
        Assert.Equal("u1\nu2\n", r.Out);
        r = await _cli.RunAsync("segment", "export", "mumbai", "--format", "csv", "--config", config);
        Assert.Equal("user_id,phone,timezone\nu1,+919876543210,Asia/Kolkata\nu2,+14155550100,America/New_York\n", r.Out);

        r = await _cli.RunAsync("segment", "count", "--config", config);
        Assert.Equal(["streams: name a saved segment id or give -f FILE (one of them)"], r.ErrLines);
    }

    [Fact]
    public async Task Campaign_estimate_gives_the_funnel_and_the_live_trigger_rate_over_the_analytics_store()
    {
        using var kafka = new EmbeddedKafka();
        EmbeddedKafka.EnsureTopics(kafka.Bootstrap, Topics.Default);
        var database = "estcli_" + Guid.NewGuid().ToString("N")[..10];
        var now = DateTimeOffset.UtcNow;
        await using (var store = ClickHouseStore.Create(Services.ClickHouse, database))
        {
            await store.MigrateAsync();
            await store.InsertProfilesAsync([
                Build.Profile("u1", now.AddDays(-30), "+919876543210", "Asia/Kolkata", true, ("city", "Mumbai")),
                Build.Profile("u2", now.AddDays(-30), props: ("city", "Mumbai")),
                Build.Profile("u3", now.AddDays(-30), "+919876543211", optIn: false, props: ("city", "Mumbai")),
                Build.Profile("u4", now.AddDays(-30), "+12124567890", "America/New_York", props: ("city", "Mumbai")),
                Build.Profile("u5", now.AddDays(-30), "+447911123456", "Europe/London", props: ("city", "Pune")),
            ]);
            // 14 trigger events of a member over the last 7 days: 2 a day (u5's, outside the segment, do not count).
            await store.InsertEventsAsync([.. Enumerable.Range(0, 14).Select(i => Build.Event("u1", "Browsed", now.AddHours(-1 - 11 * i))),
                .. Enumerable.Range(0, 14).Select(i => Build.Event("u5", "Browsed", now.AddHours(-2 - 11 * i)))]);
        }
        var config = _cli.File("streams.yaml",
            $"kafka: {{bootstrap: \"{kafka.Bootstrap}\"}}\nclickhouse: {{url: \"{Services.ClickHouse}\", database: {database}}}\nproviders: {{sandbox: {{type: sandbox, rate: 1}}}}\n");
        var spec = _cli.File("promo.yaml",
            "id: promo\nname: Promo\ntype: live\nwho: {trigger: {event: Browsed}, segment: {profile: {prop: city, op: eq, value: Mumbai}}}\nwhat: {provider: sandbox, text: Hi}");

        var r = await _cli.RunAsync("campaign", "estimate", "-f", spec, "--config", config);
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("  qualified                       4", r.Out);
        Assert.Contains("  invalid_phone                  -1          3", r.Out);
        Assert.Contains("  opted_out                      -1          2", r.Out);
        Assert.Contains("  reachable                       2", r.Out);
        Assert.Contains("by country:   India (+91) 1, United States (+1) 1", r.Out);
        Assert.Contains("cost:         1 segment(s) a message × 2 = 2 units", r.Out);
        Assert.Contains("time to send: 2 s at 1/s", r.Out);
        // 2 triggers a day, of which the reachable share (2 of 4 qualified) sends.
        Assert.Contains("live:         2 trigger events a day over the last 7 days, about 1 sends a day", r.Out);

        // validate gives the same reach in one line.
        r = await _cli.RunAsync("campaign", "validate", "-f", spec, "--config", config);
        Assert.Contains($"{spec}: estimate: 4 qualified, 2 reachable, 2 cost units", r.Out);

        r = await _cli.RunAsync("campaign", "estimate", "-f", spec, "--format", "json", "--config", config);
        Assert.Contains("\"qualified\":4", r.Out);
        Assert.Contains("\"reachable\":2", r.Out);
    }

    [Fact]
    public async Task Generate_writes_a_synthetic_history_that_segments_and_estimates_read()
    {
        var database = "gencli_" + Guid.NewGuid().ToString("N")[..10];
        var config = _cli.File("streams.yaml", $"clickhouse: {{url: \"{Services.ClickHouse}\", database: {database}}}\n");
        var r = await _cli.RunAsync("generate", "--users", "300", "--days", "20", "--events-per-user", "10", "--config", config);
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.StartsWith("generated 300 profiles and ", r.Out);

        var everyone = _cli.File("everyone.yaml", "id: everyone\nname: Everyone\nsegment: {not: {did: {event: Nothing}}}");
        r = await _cli.RunAsync("segment", "count", "-f", everyone, "--config", config);
        Assert.Equal("300", r.Out.Trim().Split('\n')[^1]);
        var mumbai = _cli.File("buyers.yaml", "id: buyers\nname: Buyers\nsegment: {all: [{profile: {prop: country, op: eq, value: IN}}, {did: {event: Charged, within: 30d}}]}");
        r = await _cli.RunAsync("segment", "count", "-f", mumbai, "--config", config);
        var buyers = long.Parse(r.Out.Trim().Split('\n')[^1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(buyers, 1, 299);

        // The same seed gives the same history: a second database holds the same counts.
        var again = _cli.File("again.yaml", $"clickhouse: {{url: \"{Services.ClickHouse}\", database: {database}_2}}\n");
        await _cli.RunAsync("generate", "--users", "300", "--days", "20", "--events-per-user", "10", "--config", again);
        r = await _cli.RunAsync("segment", "count", "-f", mumbai, "--config", again);
        Assert.Equal(buyers, long.Parse(r.Out.Trim().Split('\n')[^1], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Generate_to_kafka_produces_the_profiles_and_events_the_pipeline_reads()
    {
        using var kafka = new EmbeddedKafka();
        EmbeddedKafka.EnsureTopics(kafka.Bootstrap, Topics.Default);
        var config = _cli.File("streams.yaml", $"kafka: {{bootstrap: \"{kafka.Bootstrap}\"}}\n");
        var r = await _cli.RunAsync("generate", "--users", "50", "--days", "5", "--events-per-user", "4", "--to", "kafka", "--config", config);
        Assert.True(r.ExitCode == 0, r.Err);
        var events = long.Parse(r.Out.Split(" and ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(50, KafkaTest.ReadAll(kafka.Bootstrap, Topics.Default.Profiles).Select(m => Topics.Default.Profiles.Decode(m.Message.Value).UserId).Distinct().Count());
        Assert.Equal(events, KafkaTest.ReadAll(kafka.Bootstrap, Topics.Default.Events).Count);
    }
}
