using Streams.Analytics;
using Streams.Core;
using Streams.Tests;

namespace Streams.Backends.Tests;

/// <summary>The same tables and the same funnel from ClickHouse (over HTTP, 18.16 here) and from DuckDB.</summary>
public abstract class AnalyticsStoreContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    protected IAnalyticsStore Store { get; private set; } = null!;

    protected abstract IAnalyticsStore Create();

    public async Task InitializeAsync()
    {
        Store = Create();
        await Store.MigrateAsync();
        await Store.MigrateAsync(); // idempotent
    }

    public async Task DisposeAsync() => await Store.DisposeAsync();

    private static SmsResult R(string request, string campaign, string status, string? reason = null) =>
        new(request, status is "sent" or "delivered" ? "m-" + request : null, campaign, "u-" + request, status, reason, "sandbox", 1, "GSM-7", At);

    [Fact]
    public async Task Funnel_counts_each_request_once_per_status_even_when_results_are_written_twice()
    {
        var results = new[]
        {
            R("1", "cart", "sent"), R("1", "cart", "delivered"),
            R("2", "cart", "sent"), R("2", "cart", "sent"),       // redelivered after a crash
            R("3", "cart", "suppressed", "opted_out"), R("4", "cart", "suppressed", "invalid_phone"),
            R("5", "cart", "sent"), R("5", "cart", "failed", "provider_error: twilio 21612"),
            R("7", "cart", "sent"), R("7", "cart", "undelivered", "twilio 30007"),
            R("8", "cart", "sent"), R("8", "cart", "failed", "provider_error: twilio 21612"),
            R("6", "welcome", "suppressed", "opted_out"),
        };
        await Store.InsertResultsAsync(results);
        await Store.InsertResultsAsync([R("1", "cart", "delivered")]);

        var funnel = await Store.FunnelAsync();
        Assert.Equal(["cart", "welcome"], funnel.Select(f => f.CampaignId));
        var cart = funnel[0];
        Assert.Equal((7L, 5L, 1L, 3L, 1L), (cart.Qualified, cart.Sent, cart.Delivered, cart.Failed, cart.Pending));
        Assert.Equal(new Dictionary<string, long> { ["invalid_phone"] = 1, ["opted_out"] = 1 }, cart.Suppressed.OrderBy(k => k.Key).ToDictionary());
        // Failures keep the provider's reason, so a report says why messages failed, not only how many.
        Assert.Equal(new Dictionary<string, long> { ["provider_error: twilio 21612"] = 2, ["twilio 30007"] = 1 }, cart.FailedByReason.OrderBy(k => k.Key).ToDictionary());

        var only = Assert.Single(await Store.FunnelAsync("welcome"));
        Assert.Equal(1, only.Suppressed["opted_out"]);
    }

    [Fact]
    public async Task Campaign_filter_is_a_literal_never_sql()
    {
        await Store.InsertResultsAsync([R("1", "it's", "sent")]);
        Assert.Empty(await Store.FunnelAsync("x' OR '1'='1"));
        Assert.Equal(1, Assert.Single(await Store.FunnelAsync("it's")).Sent);
        Assert.Empty(await Store.FunnelAsync("back\\slash'"));
    }

    [Fact]
    public async Task Profile_updates_come_back_in_order_with_their_values()
    {
        await Store.InsertEventsAsync([new UserEvent("u1", "Added To Cart", At, new Dictionary<string, object?> { ["value"] = 799.0, ["q"] = "it's \"quoted\"" })]);
        await Store.InsertProfilesAsync(
        [
            Build.Profile("u1", At.AddDays(1), optIn: false, props: ("city", "Pune")),
            Build.Profile("u1", At, "+919876543210", "Asia/Kolkata", true, ("city", "Mumbai"), ("age", 31L), ("vip", true)),
            Build.Profile("u2", At, "+919876543211"),
        ]);
        var updates = await Store.ProfileUpdatesAsync("u1");
        Assert.Equal([At, At.AddDays(1)], updates.Select(u => u.Ts));
        Assert.Equal(("+919876543210", "Asia/Kolkata", (bool?)true), (updates[0].Phone, updates[0].Timezone, updates[0].SmsOptIn));
        Assert.Equal(new Dictionary<string, object?> { ["city"] = "Mumbai", ["age"] = 31L, ["vip"] = true }, updates[0].Props);
        Assert.Equal((null, (bool?)false), (updates[1].Phone, updates[1].SmsOptIn));
        Assert.Empty(await Store.ProfileUpdatesAsync("it's nobody"));
    }

    [Fact]
    public async Task Property_catalog_keeps_each_key_once()
    {
        PropertyKey[] keys = [new("event", "Added To Cart", "value"), new("profile", "", "city")];
        await Store.InsertPropertiesAsync(keys);
        await Store.InsertPropertiesAsync([keys[0], new("event", "Charged", "value")]);
        Assert.Equal([new("event", "Added To Cart", "value"), new("event", "Charged", "value"), new("profile", "", "city")],
            (await Store.KnownPropertiesAsync()).OrderBy(k => k.Kind).ThenBy(k => k.Event));
    }

    private static readonly DateTimeOffset Evening = new(2026, 12, 1, 19, 0, 0, TimeSpan.Zero); // 00:30 on Dec 2 in Kolkata
    private static readonly string RunRequest = RequestIds.ForRun("cart@20261201T1000Z", "u7");

    private static SmsResult Timed(SmsResult r, DateTimeOffset ts, int segments = 1, string encoding = "GSM-7") => r with { Ts = ts, Segments = segments, Encoding = encoding };

    private async Task ReportDataAsync()
    {
        await Store.InsertResultsAsync(
        [
            Timed(R("r1", "cart", "sent"), At, 2), Timed(R("r1", "cart", "sent"), At, 2), Timed(R("r1", "cart", "delivered"), At.AddMinutes(1), 2),
            R("r2", "cart", "sent"), R("r2", "cart", "failed", "provider_error: 21612"),
            R("r3", "cart", "suppressed", Reasons.ControlGroup), R("r4", "cart", "suppressed", Reasons.GlobalControl), R("r5", "cart", "suppressed", Reasons.OptedOut),
            Timed(R("r6", "cart", "sent"), Evening, 1, "UCS-2"), Timed(R("r6", "cart", "delivered"), Evening.AddMinutes(1), 1, "UCS-2"),
            R(RunRequest, "cart", "sent"),
        ]);
        ConversionRecord C(string request, string cohort, DateTimeOffset exposed, TimeSpan after, double? value) =>
            new("cart", "u-" + request, request, null, cohort, exposed, "Charged", exposed + after, value, true);
        await Store.InsertConversionsAsync(
        [
            C("r1", ExposureGroup.Treatment, At, TimeSpan.FromHours(2), 799), C("r1", ExposureGroup.Treatment, At, TimeSpan.FromHours(2), 799),
            C("r3", ExposureGroup.Control, At, TimeSpan.FromHours(1), 100), C("r6", ExposureGroup.Treatment, Evening, TimeSpan.FromHours(1), null),
        ]);
    }

    private static Core.Campaigns.CampaignSpec Kolkata => Core.Campaigns.CampaignSpecParser.ParseValid("""
        id: cart
        name: Cart
        type: live
        who: {trigger: {event: Added To Cart}}
        when: {timezone: Asia/Kolkata}
        what: {provider: sandbox, text: Hi}
        goal: {conversion: {event: Charged, within: 24h, value: value}, control_group: 10}
        """);

    private async Task<Analytics.Reports.Report> ReportAsync(Analytics.Reports.ReportFilter filter, bool zone = true) =>
        await Analytics.Reports.Reporting.LoadAsync(Store, filter, id => zone && id == "cart" ? Kolkata : null, At);

    [Fact]
    public async Task The_report_gives_the_funnel_to_conversions_costs_and_days_in_the_campaign_zone()
    {
        await ReportDataAsync();
        var cart = Assert.Single((await ReportAsync(new())).Campaigns);
        var f = cart.Funnel;
        Assert.Equal((7L, 4L, 2L, 1L, 1L), (f.Qualified, f.Sent, f.Delivered, f.Failed, f.Pending));
        Assert.Equal(new Dictionary<string, long> { [Reasons.ControlGroup] = 1, [Reasons.GlobalControl] = 1, [Reasons.OptedOut] = 1 }, f.Suppressed.OrderBy(k => k.Key).ToDictionary());
        Assert.Equal((2L, 799.0, 0.5, 0.5), (cart.Converted, cart.Revenue, cart.DeliveryRate!.Value, cart.ConversionRate!.Value));
        Assert.Equal([new Analytics.Reports.Cost("GSM-7", 3, 4), new Analytics.Reports.Cost("UCS-2", 1, 1)], cart.Costs);
        Assert.Equal([new Analytics.Reports.DayRow(new DateOnly(2026, 12, 1), 3, 1, 1), new Analytics.Reports.DayRow(new DateOnly(2026, 12, 2), 1, 1, 1)], cart.Days);
        Assert.Equal(("Asia/Kolkata", "Charged within 1d"), (cart.Zone, cart.Goal)); // 24h reads back as 1d
        Assert.Equal((new Analytics.Reports.Arm(4, 2, 799), new Analytics.Reports.Arm(1, 1, 100), false), (cart.Lift.Treatment, cart.Lift.Control, cart.Lift.Enough));
        Assert.Equal(new Analytics.Reports.Arm(1, 0, 0), cart.GlobalControl);
        // Without the campaign's zone its days are UTC days.
        Assert.Equal([new Analytics.Reports.DayRow(new DateOnly(2026, 12, 1), 4, 2, 2)], Assert.Single((await ReportAsync(new(), zone: false)).Campaigns).Days);
    }

    [Fact]
    public async Task The_report_of_one_run_or_a_time_range_counts_only_those_requests()
    {
        await ReportDataAsync();
        var run = Assert.Single((await ReportAsync(new("cart", RequestIds.RunKey("cart@20261201T1000Z")))).Campaigns);
        Assert.Equal((1L, 1L, 0L), (run.Funnel.Qualified, run.Funnel.Sent, run.Converted));
        Assert.Equal([new Analytics.Reports.DayRow(new DateOnly(2026, 12, 1), 1, 0, 0)], run.Days);
        var evening = Assert.Single((await ReportAsync(new(From: Evening.AddHours(-1), To: Evening.AddHours(1)))).Campaigns);
        Assert.Equal((1L, 1L, 1L, 1L), (evening.Funnel.Qualified, evening.Funnel.Sent, evening.Funnel.Delivered, evening.Converted));
        Assert.Empty((await ReportAsync(new("welcome"))).Campaigns);
        Assert.Empty((await ReportAsync(new("x' OR '1'='1"))).Campaigns);
    }

    [Fact]
    public async Task Lift_compares_users_so_a_user_exposed_twice_is_one_trial_and_a_provider_refusal_is_still_treatment()
    {
        SmsResult X(string request, string user, string status, string? reason = null) => R(request, "cart", status, reason) with { UserId = user };
        await Store.InsertResultsAsync(
        [
            X("a1", "ana", ResultStatus.Sent), X("a2", "ana", ResultStatus.Sent), X("a2", "ana", ResultStatus.Failed, "twilio 30007"),
            X("b1", "bo", ResultStatus.Failed, "provider_error: 21612"), X("c1", "cy", ResultStatus.Suppressed, Reasons.ControlGroup),
            X("c2", "cy", ResultStatus.Suppressed, Reasons.ControlGroup),
        ]);
        await Store.InsertConversionsAsync(
        [
            new("cart", "ana", "a1", null, ExposureGroup.Treatment, At, "Charged", At.AddMinutes(5), 10, false),
            new("cart", "ana", "a2", null, ExposureGroup.Treatment, At, "Charged", At.AddMinutes(5), 10, true),
        ]);
        var cart = Assert.Single((await ReportAsync(new())).Campaigns);
        Assert.Equal((new Analytics.Reports.Arm(2, 1, 20), new Analytics.Reports.Arm(1, 0, 0)), (cart.Lift.Treatment, cart.Lift.Control));
        Assert.Equal((2L, 0.5), (cart.Converted, cart.ConversionRate!.Value));
    }

    [Fact]
    public async Task Why_tells_each_requests_trigger_waits_decisions_deliveries_and_conversions()
    {
        await ReportDataAsync();
        var asked = new SmsRequest("r1", "cart", 1, "u-r1", At.AddMinutes(-30),
            new RequestContext("Added To Cart", At.AddMinutes(-30), Props.Empty, null, null, null, Props.Empty));
        await Store.InsertRequestsAsync([RequestRow.Of(asked), RequestRow.Of(new ScheduledRequest(asked, At, "dnd")), RequestRow.Of(asked)]);
        var story = await Store.StoryAsync("cart", "u-r1", null);
        Assert.Equal(2, story.Requests.Count);
        Assert.Equal(
        [
            "request r1 · campaign cart · user u-r1",
            "  2026-12-01T09:30:00Z  requested: triggered by Added To Cart at 2026-12-01T09:30:00Z",
            "  2026-12-01T09:30:00Z  waits until 2026-12-01T10:00:00Z (dnd)",
            "  2026-12-01T10:00:00Z  sent via sandbox, message m-r1 (GSM-7, 2 segments)",
            "  2026-12-01T10:01:00Z  delivered (message m-r1)",
            "  2026-12-01T12:00:00Z  converted: Charged value 799 (last touch), treatment exposed at 2026-12-01T10:00:00Z",
        ], Analytics.Reports.WhyText.Render(story).TrimEnd().Split('\n'));
        Assert.Equal(story.Results.Count, (await Store.StoryAsync(null, null, "r1")).Results.Count);
        Assert.Equal("nothing recorded for this user or request\n", Analytics.Reports.WhyText.Render(await Store.StoryAsync(null, "nobody' OR '1'='1", null)));
    }

    [Fact]
    public async Task Why_names_the_reason_for_a_user_stopped_by_each_check()
    {
        string[] reasons =
        [
            Reasons.CampaignInactive, Reasons.NotSampled, Reasons.OptedOut, Reasons.InvalidPhone, Reasons.LimitReached, Reasons.DailyLimitReached,
            Reasons.RunLimitReached, Reasons.FrequencyCapped, Reasons.DndDiscarded, Reasons.RenderFailed, Reasons.TooManySegments,
        ];
        await Store.InsertResultsAsync([.. reasons.Select(r => R("q-" + r, "cart", ResultStatus.Suppressed, r) with { UserId = "user-" + r })]);
        await Store.InsertResultsAsync([R("q-held", "cart", ResultStatus.Suppressed, Reasons.ControlGroup) with { UserId = "user-held" }]);
        foreach (var reason in reasons)
            Assert.Contains($"not sent: {reason}", Analytics.Reports.WhyText.Render(await Store.StoryAsync("cart", "user-" + reason, null)));
        Assert.Contains("held out (control_group): an exposure, nothing sent", Analytics.Reports.WhyText.Render(await Store.StoryAsync("cart", "user-held", null)));
    }

}

public sealed class ClickHouseStoreTests : AnalyticsStoreContractTests
{
    protected override IAnalyticsStore Create() => ClickHouseStore.Create(Services.ClickHouse, "test_" + Guid.NewGuid().ToString("N")[..12]);

    [Theory]
    [InlineData("plain", "'plain'")]
    [InlineData("it's", @"'it\'s'")]
    [InlineData(@"a\b", @"'a\\b'")]
    [InlineData("line\nbreak", @"'line\nbreak'")]
    public void Literals_are_escaped(string value, string literal) => Assert.Equal(literal, ClickHouseStore.Literal(value));

    [Theory]
    [InlineData("streams; DROP TABLE x")]
    [InlineData("1abc")]
    [InlineData("")]
    public void Database_names_are_checked(string name) => Assert.Throws<ArgumentException>(() => ClickHouseStore.Identifier(name));
}

public sealed class DuckDbStoreTests : AnalyticsStoreContractTests, IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "streams-tests", Guid.NewGuid().ToString("N"));

    protected override IAnalyticsStore Create() => DuckDbStore.Open(Path.Combine(_dir, "analytics.duckdb"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
