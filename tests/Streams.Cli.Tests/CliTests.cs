namespace Streams.Cli.Tests;

public sealed class CliTests : IDisposable
{
    private readonly Cli _cli = new();

    private const string Good = """
        id: welcome
        name: Welcome
        type: live
        who: {trigger: {event: Signed Up}}
        what: {provider: sandbox, from: "+14155550100", text: "Welcome {{ profile.first_name | default: 'friend' }}!"}
        """;

    [Fact]
    public async Task Validate_accepts_a_good_spec_and_notes_what_apply_would_refuse()
    {
        var good = _cli.File("good.yaml", Good);
        var later = _cli.File("later.yaml", Good.Replace("who: {trigger: {event: Signed Up}}", "who: {trigger: {event: Signed Up}, reach: {run_limit: 5}}"));
        var r = await _cli.RunAsync("campaign", "validate", "-f", good, later);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains($"{good}: ok (welcome, live)", r.Out);
        Assert.Contains($"{good}: preview: \"Welcome [first_name]!\" (GSM-7, 21 characters, 1 segment)", r.Out);
        Assert.Contains($"{later}: note: apply will refuse, not supported yet: who.reach.run_limit", r.Out);
    }

    [Fact]
    public async Task Validate_lists_every_problem_and_fails()
    {
        var bad = _cli.File("bad.yaml", "id: Bad\ntype: live\nwhat: {provider: sandbox}");
        var r = await _cli.RunAsync("campaign", "validate", "-f", bad);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"{bad}: id: must match [a-z0-9-]+", r.Out);
        Assert.Contains($"{bad}: name: is required", r.Out);
        Assert.Contains($"{bad}: what.text: is required", r.Out);
        Assert.Equal(["streams: 1 of 1 spec file(s) invalid"], r.ErrLines);
    }

    [Theory]
    [InlineData(new[] { "campaign", "validate", "-f", "missing.yaml" }, 1, "streams: file not found: missing.yaml")]
    [InlineData(new[] { "campaign", "frobnicate" }, 2, "streams: ")]
    [InlineData(new[] { "report", "--format", "xml" }, 2, "streams: ")]
    [InlineData(new[] { "campaign", "list" }, 1, "streams: no Kafka configured (kafka.bootstrap) and no embedded pipeline running: start `streams run --embedded` first")]
    [InlineData(new[] { "report" }, 1, "streams: no analytics configured (clickhouse.url) and no embedded data in .streams")]
    [InlineData(new[] { "report", "--run", "yesterday" }, 1, "streams: --run: 'yesterday' is not a run id (campaign@time, as `campaign runs` lists them)")]
    [InlineData(new[] { "report", "--campaign", "cart", "--run", "win-back@now" }, 1, "streams: --run: 'win-back@now' is not a run of campaign cart")]
    [InlineData(new[] { "report", "--from", "2026-13-45" }, 1, "streams: --from: '2026-13-45' is not a date (yyyy-MM-dd) or an instant with an offset")]
    [InlineData(new[] { "report", "--from", "2026-12-02", "--to", "2026-12-01" }, 1, "streams: --from must be before --to")]
    [InlineData(new[] { "report", "--to", "2026-12-01T10:07:00Z" }, 1, "streams: --to: '2026-12-01T10:07:00Z' is not on a quarter-hour (:00, :15, :30, :45 in UTC)")]
    [InlineData(new[] { "why", "--campaign", "cart" }, 1, "streams: why needs --user (with or without --campaign) or --request")]
    [InlineData(new[] { "why", "--user", "u1" }, 1, "streams: no analytics configured (clickhouse.url) and no embedded data in .streams")]
    [InlineData(new[] { "events", "send", "-f", "events.jsonl" }, 1, "streams: events.jsonl:2: missing_field: required field 'ts' is missing")]
    public async Task Failures_are_one_line_on_stderr_with_a_non_zero_exit(string[] args, int code, string line)
    {
        _cli.File("events.jsonl", """
            {"user_id":"u1","name":"Signed Up","ts":"2026-12-01T10:00:00Z"}
            {"user_id":"u1","name":"Signed Up"}
            """);
        var r = await _cli.RunAsync(args);
        Assert.Equal(code, r.ExitCode);
        Assert.Single(r.ErrLines);
        Assert.StartsWith(line, r.ErrLines[0]);
    }

    [Fact]
    public async Task Configuration_refuses_what_is_not_built_yet_and_bad_values()
    {
        var config = _cli.File("streams.yaml", "limits: {per_user: {day: 3}}\ndnd: {from: \"25:00\", to: \"08:00\"}\n");
        var r = await _cli.RunAsync("campaign", "list", "--config", config);
        Assert.Equal(["streams: dnd.from must be a time of day like 21:00"], r.ErrLines);

        var sinch = _cli.File("sinch.yaml", "providers: {sinch: {type: sinch}}\n");
        r = await _cli.RunAsync("campaign", "list", "--config", sinch);
        Assert.Equal(["streams: providers.sinch: sinch needs service_plan_id"], r.ErrLines);

        var secret = _cli.File("secret.yaml", "providers: {tw: {type: twilio, account_sid: AC1}}\n");
        r = await _cli.RunAsync("campaign", "list", "--config", secret);
        Assert.Equal(["streams: providers.tw: set token_env or token_file"], r.ErrLines);

        var kannel = _cli.File("kannel.yaml", "providers: {k: {type: kannel}}\n");
        r = await _cli.RunAsync("campaign", "list", "--config", kannel);
        Assert.Equal(["streams: providers.k: kannel needs base_url and username"], r.ErrLines);

        var unknown = _cli.File("unknown.yaml", "providers: {x: {type: smpp}}\n");
        r = await _cli.RunAsync("campaign", "list", "--config", unknown);
        Assert.Equal(["streams: providers.x.type: 'smpp' is not one of sandbox, sinch, twilio, kannel, http, group"], r.ErrLines);

        var template = _cli.File("template.yaml", "providers: {gw: {type: http, url: \"https://gw.example.com/send\", body: \"{{ to \"}}\n");
        r = await _cli.RunAsync("campaign", "list", "--config", template);
        Assert.StartsWith("streams: providers.gw.body: ", Assert.Single(r.ErrLines));

        var group = _cli.File("group.yaml", "providers: {primary: {type: group, members: [sinch, sandbox]}}\n");
        r = await _cli.RunAsync("campaign", "list", "--config", group);
        Assert.Equal(["streams: providers.primary.members: no provider named 'sinch'"], r.ErrLines);

        var negative = _cli.File("negative.yaml", "limits: {per_user: {day: -1}}\n");
        r = await _cli.RunAsync("campaign", "list", "--config", negative);
        Assert.Equal(["streams: limits.per_user: caps must be zero or more"], r.ErrLines);

        var typo = _cli.File("typo.yaml", "kafak: {bootstrap: x}\n");
        r = await _cli.RunAsync("campaign", "list", "--config", typo);
        Assert.StartsWith("streams: unknown configuration key 'kafak' (expected one of: kafka,", r.ErrLines.Single());
    }

    [Fact]
    public async Task Apply_refuses_fields_not_supported_yet_before_touching_kafka()
    {
        // A run limit means nothing to a live campaign (its runs are scheduled campaigns' occurrences).
        var spec = _cli.File("run-limit.yaml", Good.Replace("who: {trigger: {event: Signed Up}}", "who: {trigger: {event: Signed Up}, reach: {run_limit: 5}}"));
        var r = await _cli.RunAsync("campaign", "apply", "-f", spec);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal([$"streams: {spec}: not supported yet: who.reach.run_limit"], r.ErrLines);
    }

    [Theory]
    [InlineData("when: {at: \"2020-01-01T10:00\", timezone: Asia/Kolkata}", "when.at[0]: 2020-01-01T10:00 in Asia/Kolkata is in the past")]
    [InlineData("when: {at: \"2026-12-01T10:00\", timezone: Mars/Olympus}", "when.timezone: unknown time zone 'Mars/Olympus' (use an IANA name like Asia/Kolkata)")]
    [InlineData("when: {every: {cron: \"61 10 * * *\"}}", "when.every.cron: invalid cron expression")]
    [InlineData("when: {every: {cron: \"0 10 * * *\", until: \"2020-03-01\"}}", "when.every.until: 2020-03-01: no occurrence of '0 10 * * *' is left before it")]
    [InlineData("when: {at: now}\nwho: {reach: {safety_limit: 0}}", "who.reach.safety_limit: must be at least 1")]
    public async Task Apply_refuses_a_schedule_that_cannot_run_with_one_line(string when, string error)
    {
        var spec = _cli.File("s.yaml", $"id: s\nname: S\ntype: scheduled\nwhat: {{provider: sandbox, text: Hi}}\n{when}\n");
        var r = await _cli.RunAsync("campaign", "apply", "-f", spec);
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"streams: {spec}: {error}", Assert.Single(r.ErrLines));
    }

    private const string CartSpec = """
        id: cart
        name: Cart
        type: live
        who: {trigger: {event: Added To Cart}}
        what: {provider: sandbox, from: "+14155550100", text: "Hi {{ profile.first_name | default: 'there' }}, your {{ event.product }} is waiting 🛒"}
        """;

    [Fact]
    public async Task Test_sms_uses_set_values_and_defaults_and_sends_through_the_campaigns_provider()
    {
        var spec = _cli.File("cart.yaml", CartSpec);
        var r = await _cli.RunAsync("campaign", "test", "-f", spec, "--to", "+91 98765 43210", "--set", "product=Sofa");
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Equal(
        [
            "to:         +919876543210",
            "text:       Hi there, your Sofa is waiting 🛒",
            "encoding:   UCS-2",
            "characters: 32",
            "segments:   1",
        ], r.Out.Split('\n')[..5]);
        Assert.Matches("^provider:   sandbox accepted, message id sbx-test-[0-9a-f]{32}$", r.Out.Split('\n')[5]);
        var line = System.Text.Json.JsonDocument.Parse(Assert.Single(File.ReadAllLines(Path.Combine(_cli.Dir, ".streams", "outbox.jsonl")))).RootElement;
        Assert.Equal(("+919876543210", "+14155550100", "cart", "Hi there, your Sofa is waiting 🛒"),
            (line.GetProperty("to").GetString(), line.GetProperty("from").GetString(), line.GetProperty("campaign_id").GetString(), line.GetProperty("text").GetString()));

        r = await _cli.RunAsync("campaign", "test", "-f", spec, "--to", "+919876543210", "--set", "event.product=Lamp", "profile.first_name=Asha");
        Assert.Contains("text:       Hi Asha, your Lamp is waiting 🛒", r.Out);
    }

    [Fact]
    public async Task Test_sms_never_sends_a_placeholder_to_a_phone()
    {
        var spec = _cli.File("cart.yaml", CartSpec);
        var r = await _cli.RunAsync("campaign", "test", "-f", spec, "--to", "+919876543210");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("preview:    \"Hi [first_name], your [product] is waiting 🛒\"", r.Out);
        Assert.Equal(["streams: not sent: event.product has no value and no default; give one with --set event.product=... or --user"], r.ErrLines);
        Assert.False(File.Exists(Path.Combine(_cli.Dir, ".streams", "outbox.jsonl")));

        r = await _cli.RunAsync("campaign", "test", "-f", spec, "--to", "+919876543210", "--set", "city=Pune");
        Assert.Equal(["streams: --set city=Pune: say profile.city or event.city (the text uses no variable named city)"], r.ErrLines);
    }

    [Theory]
    [InlineData("+1555", "streams: --to +1555: too short for a number in United States (+1): 3 digits after +1, numbers there have 10")]
    [InlineData("12345", "streams: --to 12345: no country code; write it in international format: + then the country code and the number, e.g. +14155550100")]
    [InlineData("+447700900123", "streams: --to +447700900123: not a number in use in United Kingdom (+44): check the digits after the country code")]
    [InlineData("hello", "streams: --to hello: not a phone number; write it in international format")]
    public async Task Test_sms_to_an_invalid_number_is_refused_in_plain_words_before_sending(string to, string line)
    {
        var spec = _cli.File("welcome.yaml", Good);
        var r = await _cli.RunAsync("campaign", "test", "-f", spec, "--to", to);
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith(line, Assert.Single(r.ErrLines));
        Assert.False(File.Exists(Path.Combine(_cli.Dir, ".streams", "outbox.jsonl")));
    }

    [Fact]
    public async Task Test_sms_over_max_segments_is_not_sent()
    {
        var spec = _cli.File("long.yaml", Good.Replace("text: \"Welcome {{ profile.first_name | default: 'friend' }}!\"", $"text: \"{new string('a', 200)}\", max_segments: 1"));
        var r = await _cli.RunAsync("campaign", "test", "-f", spec, "--to", "+919876543210");
        Assert.Equal(["streams: too_many_segments: 2 segments, max_segments is 1; not sent"], r.ErrLines);
        Assert.False(File.Exists(Path.Combine(_cli.Dir, ".streams", "outbox.jsonl")));
    }

    [Fact]
    public async Task Help_lists_the_commands()
    {
        var r = await _cli.RunAsync("--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var command in new[] { "demo", "run", "campaign", "segment", "events", "profiles", "report", "why", "topics", "clickhouse" })
            Assert.Contains(command, r.Out);
    }

    [Fact]
    public async Task Simulate_prints_one_json_line_per_request_outcome()
    {
        var spec = _cli.File("hello.yaml", "id: hello\nname: Hello\ntype: live\nwho: {trigger: {event: Signed Up}}\nwhat: {provider: sandbox, text: \"Hi {{ profile.first_name }}\"}\n");
        var profiles = _cli.File("profiles.jsonl", "{\"user_id\":\"u1\",\"ts\":\"2026-11-01T08:00:00Z\",\"phone\":\"+919876543210\",\"props\":{\"first_name\":\"Asha\"}}\n");
        var events = _cli.File("events.jsonl", "{\"user_id\":\"u1\",\"name\":\"Signed Up\",\"ts\":\"2026-12-01T10:00:00+05:30\"}\n\n{\"user_id\":\"u2\",\"name\":\"Signed Up\",\"ts\":1796099400000}\n");

        var result = await _cli.RunAsync("simulate", "--campaign", spec, "--events", events, "--profiles", profiles);

        Assert.True(result.ExitCode == 0, result.Err);
        Assert.Equal(
        [
            """{"campaign_id":"hello","user_id":"u1","request_id":"__u1__","status":"sent","reason":null,"at":"2026-12-01T04:30:00.000Z","text":"Hi Asha","to":"+919876543210"}""",
            """{"campaign_id":"hello","user_id":"u2","request_id":"__u2__","status":"suppressed","reason":"invalid_phone","at":"2026-12-01T04:30:00.000Z","text":null,"to":null}""",
        ], result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.RegularExpressions.Regex.Replace(l, "\"request_id\":\"[0-9a-f]{32}\"", m => l.Contains("\"u1\"") ? "\"request_id\":\"__u1__\"" : "\"request_id\":\"__u2__\"")).ToList());
    }

    [Theory]
    [InlineData("bad-line", "streams: {events}:2: bad_json")]
    [InlineData("bad-from", "streams: --from yesterday: not an ISO-8601 time with an offset")]
    [InlineData("impossible-from", "streams: --from 2026-02-30T10:00:00Z: no such date 2026-02-30 (February 2026 has 28 days)")]
    [InlineData("unsupported", "streams: {spec}: not supported yet: who.segment.ref in simulate")]
    [InlineData("bad-inbound", "streams: {inbound}:1: missing_field")]
    [InlineData("unknown-provider", "streams: {spec}: what.provider: no provider or group named 'nosuchprovider' is configured (configured: sandbox)")]
    public async Task Simulate_refuses_bad_input_with_one_line(string kind, string expected)
    {
        var spec = _cli.File("c.yaml", kind == "unsupported"
            ? "id: c\nname: C\ntype: live\nwho: {trigger: {event: E}, segment: {ref: vips}}\nwhat: {provider: sandbox, text: t}\n"
            : kind == "unknown-provider"
                ? "id: c\nname: C\ntype: live\nwho: {trigger: {event: E}}\nwhat: {provider: nosuchprovider, text: t}\n"
                : "id: c\nname: C\ntype: live\nwho: {trigger: {event: E}}\nwhat: {provider: sandbox, text: t}\n");
        var events = _cli.File("e.jsonl", "{\"user_id\":\"u1\",\"name\":\"E\",\"ts\":\"2026-12-01T10:00:00Z\"}\n" + (kind == "bad-line" ? "{\"user_id\": \n" : ""));
        var inbound = _cli.File("in.jsonl", "{\"id\":\"in1\",\"provider\":\"twilio\",\"body\":\"STOP\",\"received_at\":\"2026-12-01T10:00:00Z\"}\n");
        string[] args = kind switch
        {
            "bad-from" => ["simulate", "-c", spec, "--events", events, "--from", "yesterday"],
            "impossible-from" => ["simulate", "-c", spec, "--events", events, "--from", "2026-02-30T10:00:00Z"],
            "bad-inbound" => ["simulate", "-c", spec, "--events", events, "--inbound", inbound],
            _ => ["simulate", "-c", spec, "--events", events],
        };

        var result = await _cli.RunAsync(args);

        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(result.ErrLines);
        Assert.StartsWith(expected.Replace("{events}", events).Replace("{spec}", spec).Replace("{inbound}", inbound), line);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task Apply_refuses_a_campaign_that_cannot_send_and_validate_warns_about_it()
    {
        var config = _cli.File("streams.yaml", """
            providers:
              sinch: {type: sinch, service_plan_id: plan, token_env: SINCH_TOKEN}
              primary: {type: group, members: [sinch, sandbox]}
              twilio: {type: twilio, account_sid: AC123, token_env: TWILIO_TOKEN}
            """);
        string Spec(string what) => _cli.File($"c{Guid.NewGuid():N}.yaml", $"id: c\nname: C\ntype: live\nwho: {{trigger: {{event: E}}}}\nwhat: {what}\n");
        var cases = new (string What, string Problem)[]
        {
            ("{provider: nosuchprovider, from: \"+14155550100\", text: t}", "what.provider: no provider or group named 'nosuchprovider' is configured (configured: primary, sandbox, sinch, twilio)"),
            ("{provider: sandbox, from: \"+1415\", text: t}", "what.from: '+1415' is not a valid phone number (too short for a number in United States (+1): 3 digits after +1, numbers there have 10)"),
            ("{provider: sandbox, from: \"Acme Store Online\", text: t}", "what.from: 'Acme Store Online' is too long for an alphanumeric sender id (17 characters, at most 11)"),
            ("{provider: sandbox, from: \"12\", text: t}", "what.from: '12' is not a short code (3 to 8 digits); a phone number starts with + and the country code"),
            ("{provider: primary, text: t}", "what.from: provider 'sinch' (sinch) has no default sender (from): give what.from"),
            ("{provider: sinch, messaging_service: MG0123456789abcdef0123456789abcdef, text: t}", "what.messaging_service: provider 'sinch' is not twilio: a Messaging Service (MG0123456789abcdef0123456789abcdef) is Twilio's"),
            ("{provider: twilio, messaging_service: MG12, text: t}", "what.messaging_service: 'MG12' is not a Twilio Messaging Service SID (MG followed by 32 hex digits)"),
        };
        foreach (var (what, problem) in cases)
        {
            var file = Spec(what);
            var apply = await _cli.RunAsync("campaign", "apply", "-f", file, "--config", config);
            Assert.Equal([$"streams: {file}: {problem}"], apply.ErrLines);
            var validate = await _cli.RunAsync("campaign", "validate", "-f", file, "--config", config);
            Assert.Equal(0, validate.ExitCode);
            Assert.Contains($"warning: {file}: {problem} (apply with this configuration refuses it)", validate.Out);
        }

        // Short codes and alphanumeric ids are senders too.
        foreach (var from in new[] { "12345", "AcmeShop", "+14155550100" })
        {
            var validate = await _cli.RunAsync("campaign", "validate", "-f", Spec($"{{provider: primary, from: \"{from}\", text: t}}"), "--config", config);
            Assert.DoesNotContain("warning", validate.Out);
        }

        var filter = Spec("{provider: sandbox, text: \"Hi {{ event.product | nosuchfilter }}\"}");
        var bad = await _cli.RunAsync("campaign", "validate", "-f", filter);
        Assert.Contains($"{filter}: what.text: unknown filter 'nosuchfilter'", bad.Out);
        Assert.Equal(1, bad.ExitCode);
    }

    [Fact]
    public void The_report_table_says_why_messages_failed_beside_why_they_were_not_sent()
    {
        var rows = new Analytics.Reports.ReportRows([("cart", 10)],
            [
                new("cart", "suppressed", "opted_out", 2), new("cart", "sent", "", 8), new("cart", "delivered", "", 5),
                new("cart", "failed", "provider_error: twilio 21612", 2), new("cart", "undelivered", "twilio 30007", 1),
            ], [], [], [], [], []);
        var table = Analytics.Reports.ReportFormats.Table(Analytics.Reports.Report.Build(rows, new(), DateTimeOffset.UnixEpoch, _ => null)).Split('\n');
        Assert.Equal(
        [
            "cart (days in UTC)",
            "  qualified 10, suppressed 2, sent 8, delivered 5, failed 3, expired 0, ambiguous 0, pending 0, converted 0",
            "  suppressed: opted_out=2",
            "  failed: provider_error: twilio 21612=2, twilio 30007=1",
            "  delivery rate 62.5%, conversion rate n/a, revenue 0.00, segments 0",
            "  no conversion goal",
        ], table.Take(6));
    }

    public void Dispose() => _cli.Dispose();
}
