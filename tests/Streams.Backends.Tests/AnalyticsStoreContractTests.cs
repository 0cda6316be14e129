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
