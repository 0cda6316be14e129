using FsCheck;
using FsCheck.Fluent;
using Streams.Analytics;
using Streams.Analytics.Segments;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Core.Segments;
using Streams.Tests;
using History = Streams.Backends.Tests.SegmentOracle.History;

namespace Streams.Backends.Tests;

/// <summary>
/// Every compiled segment gives the same members on ClickHouse (18.16 here) and DuckDB, and the members the in-memory
/// oracle gives: hand cases with known answers, then random histories and random trees with their edges (a count
/// exactly at its threshold, an event exactly at a window's edge, ties, users without events, not over nothing).
/// </summary>
public abstract class SegmentContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    protected IAnalyticsStore Store { get; private set; } = null!;

    protected abstract IAnalyticsStore Create();

    public async Task InitializeAsync()
    {
        Store = Create();
        await Store.MigrateAsync();
    }

    public async Task DisposeAsync() => await Store.DisposeAsync();

    private static SegmentNode Segment(string yaml)
    {
        var parsed = CampaignSpecParser.ParseSegment("id: s\nname: S\nsegment: " + yaml);
        Assert.True(parsed.IsValid, string.Join("; ", parsed.Problems));
        return parsed.Segment!.Segment;
    }

    private static readonly Dictionary<string, History> Hand = new()
    {
        ["u1"] = new([Build.Profile("u1", Now.AddDays(-50), "+919876543210", props: [("city", "Mumbai"), ("age", 31L), ("renewal", "2026-12-05"), ("vip", true), ("città", "Roma")])],
            [Build.Event("u1", "App Launched", Now.AddDays(-1)), Build.Event("u1", "App Launched", Now.AddDays(-2)), Build.Event("u1", "App Launched", Now.AddDays(-40)),
             Build.Event("u1", "Charged", Now.AddHours(-3), new Dictionary<string, object?> { ["amount"] = 500L })]),
        ["u2"] = new([Build.Profile("u2", Now.AddDays(-50), props: [("city", "Pune"), ("age", "25")])],
            [Build.Event("u2", "App Launched", Now.AddDays(-10)), Build.Event("u2", "Charged", Now.AddDays(-8), new Dictionary<string, object?> { ["amount"] = 100L })]),
        ["u3"] = new([Build.Profile("u3", Now.AddDays(-50), props: ("city", "mumbai"))], []),
        ["u4"] = new([], [Build.Event("u4", "App Launched", Now.AddDays(-7)), Build.Event("u4", "Added To Cart", Now)]),
        ["u5"] = new([Build.Profile("u5", Now.AddDays(-200), props: [("city", "Pune"), ("renewal", "2026-11-20")]), Build.Profile("u5", Now.AddDays(-5), props: ("city", "Mumbai"))],
            [Build.Event("u5", "Charged", Now.AddDays(-100)), Build.Event("u5", "Charged", Now.AddHours(-1))]),
    };

    public static TheoryData<string, string[]> HandCases => new()
    {
        { "{profile: {prop: city, op: eq, value: Mumbai}}", ["u1", "u5"] },
        { "{profile: {prop: city, op: contains, value: mum}}", ["u1", "u3", "u5"] },
        { "{profile: {prop: age, op: gte, value: 30}}", ["u1"] },
        { "{profile: {prop: age, op: lt, value: 30}}", ["u2"] },
        { "{profile: {prop: age, op: exists, value: false}}", ["u3", "u4", "u5"] },
        { "{profile: {prop: vip, op: eq, value: true}}", ["u1"] },
        { "{profile: {prop: città, op: eq, value: Roma}}", ["u1"] },
        { "{profile: {prop: renewal, op: within_next, value: 7d}}", ["u1"] },
        { "{profile: {prop: renewal, op: within_last, value: 30d}}", ["u5"] },
        { "{did: {event: App Launched, count: {gte: 2}, within: 30d}}", ["u1"] },
        { "{not: {did: {event: Charged, within: 7d}}}", ["u2", "u3", "u4"] },
        { "{did: {event: Charged, where: [{prop: amount, op: gte, value: 200}]}}", ["u1"] },
        { "{did: {event: App Launched, within: 7d}}", ["u1", "u4"] },
        { "{did: {event: Charged, within: 24h}}", ["u1", "u5"] },
        { "{did: {event: Charged, first_time: {before: 30d}}}", ["u5"] },
        { "{did: {event: Added To Cart, last_time: {after: 1h}}}", ["u4"] },
        { "{did: {event: App Launched, count: {between: [1, 1]}}}", ["u2", "u4"] },
        { "{all: [{profile: {prop: city, op: contains, value: mum}}, {not: {did: {event: Charged, within: 7d}}}]}", ["u3"] },
        { "{any: [{profile: {prop: city, op: eq, value: Pune}}, {did: {event: Added To Cart}}]}", ["u2", "u4"] },
    };

    private async Task LoadAsync(IReadOnlyDictionary<string, History> users)
    {
        await Store.InsertProfilesAsync([.. users.Values.SelectMany(h => h.Profiles)]);
        await Store.InsertEventsAsync([.. users.Values.SelectMany(h => h.Events)]);
    }

    [Theory]
    [MemberData(nameof(HandCases))]
    public async Task A_segment_gives_the_members_known_by_hand(string yaml, string[] expected)
    {
        await LoadAsync(Hand);
        var segment = Segment(yaml);

        Assert.Equal(expected, SegmentOracle.Members(segment, Hand, Now));
        Assert.Equal(expected, await Store.SegmentUsersAsync(segment, Now));
        Assert.Equal(expected.Length, await Store.SegmentCountAsync(segment, Now));
    }

    [Fact]
    public async Task Contacts_are_the_members_with_their_latest_phone_and_time_zone()
    {
        await LoadAsync(Hand);
        var contacts = await Store.SegmentContactsAsync(Segment("{profile: {prop: city, op: eq, value: Mumbai}}"), Now);
        Assert.Equal([new Contact("u1", "+919876543210", ""), new Contact("u5", "", "")], contacts);
    }

    [Fact]
    public async Task Saved_segments_nest_and_a_cycle_or_an_unknown_id_is_refused_with_its_path()
    {
        await LoadAsync(Hand);
        var saved = new Dictionary<string, SegmentNode>
        {
            ["mumbai"] = Segment("{profile: {prop: city, op: eq, value: Mumbai}}"),
            ["active-mumbai"] = Segment("{all: [{ref: mumbai}, {did: {event: App Launched, within: 7d}}]}"),
            ["loop-a"] = Segment("{any: [{ref: loop-b}]}"),
            ["loop-b"] = Segment("{not: {ref: loop-a}}"),
        };
        SegmentNode? Resolve(string id) => saved.GetValueOrDefault(id);

        Assert.Equal(["u1"], await Store.SegmentUsersAsync(Segment("{ref: active-mumbai}"), Now, Resolve));
        var cycle = await Assert.ThrowsAsync<SegmentException>(() => Store.SegmentUsersAsync(Segment("{ref: loop-a}"), Now, Resolve));
        Assert.Equal("segment.ref(loop-a).any[0].ref(loop-b).not.ref: 'loop-a' refers back to itself (loop-a → loop-b → loop-a)", cycle.Message);
        var unknown = await Assert.ThrowsAsync<SegmentException>(() => Store.SegmentUsersAsync(Segment("{all: [{ref: mumbai}, {ref: nosuch}]}"), Now, Resolve));
        Assert.Equal("segment.all[1].ref: no saved segment 'nosuch'", unknown.Message);
    }

    // ---- random histories and trees against the oracle ----

    private static readonly string[] Names = ["A", "B"];
    private static readonly object?[] Values = ["gold", "Gold", "5", "10", 7L, 2.5, 10L, true, false, "true", "2026-11-25", "2026-12-03T08:00:00Z", null];
    private static readonly object?[] Literals = ["gold", "5", 7L, 2.5, true, "true", "2026-11-25", "2026-12-03T08:00:00Z"];

    /// <summary>Offsets back from now that sit on the edges: the window's first second and day, the day boundary, ties.</summary>
    private static readonly TimeSpan[] Edges =
    [
        TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromHours(10), TimeSpan.FromHours(10) + TimeSpan.FromSeconds(1), TimeSpan.FromHours(24),
        TimeSpan.FromDays(2), TimeSpan.FromDays(2) + TimeSpan.FromHours(10), TimeSpan.FromDays(2) + TimeSpan.FromHours(11), TimeSpan.FromDays(7), TimeSpan.FromDays(30),
        TimeSpan.FromDays(31), -TimeSpan.FromHours(3),
    ];

    private static Gen<Condition> Conditions(string prop) => Gen.OneOf(
        Gen.Elements(ConditionOp.Eq, ConditionOp.Ne, ConditionOp.Gt, ConditionOp.Gte, ConditionOp.Lt, ConditionOp.Lte, ConditionOp.Contains)
            .SelectMany(op => Gen.Elements(Literals).Select(v => new Condition(prop, op, v))),
        Gen.Elements(true, false).Select(v => new Condition(prop, ConditionOp.Exists, v)),
        Gen.Elements(ConditionOp.WithinNext, ConditionOp.WithinLast).SelectMany(op => Gen.Elements(2, 7).Select(d => new Condition(prop, op, TimeSpan.FromDays(d)))),
        Gen.Constant(new Condition(prop, ConditionOp.In, new List<object?> { "gold", 7L })));

    private static Gen<CountRange?> Counts() => Gen.OneOf(
        Gen.Constant<CountRange?>(null),
        Gen.Choose(0, 3).Select(n => (CountRange?)new CountRange(null, n, null, null, null)),
        Gen.Choose(0, 3).Select(n => (CountRange?)new CountRange(n, null, null, null, null)),
        Gen.Choose(0, 2).SelectMany(lo => Gen.Choose(lo, 3).Select(hi => (CountRange?)new CountRange(null, lo, hi, null, null))));

    private static Gen<TimeBound?> Bounds() => Gen.OneOf(
        Gen.Constant<TimeBound?>(null),
        Gen.Elements(Edges).Where(e => e > TimeSpan.Zero).Select(e => (TimeBound?)new TimeBound(new RelativeTime(null, e), null)),
        Gen.Elements(Edges).Where(e => e > TimeSpan.Zero).Select(e => (TimeBound?)new TimeBound(null, new RelativeTime(null, e))));

    private static Gen<SegmentNode> Leaf() => Gen.OneOf(
        Conditions("p").Select(c => (SegmentNode)new ProfileCondition(c)),
        from name in Gen.Elements(Names)
        from count in Counts()
        from within in Gen.Elements<TimeSpan?>(null, TimeSpan.FromDays(1), TimeSpan.FromDays(2), TimeSpan.FromDays(7), TimeSpan.FromHours(24), TimeSpan.FromHours(10))
        from whereCount in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Constant(1)))
        from filters in Gen.ArrayOf(Conditions("q"), whereCount)
        from first in Gen.Frequency((4, Gen.Constant<TimeBound?>(null)), (1, Bounds()))
        from last in Gen.Frequency((4, Gen.Constant<TimeBound?>(null)), (1, Bounds()))
        select (SegmentNode)new DidCondition(name, count, within, filters) { FirstTime = first, LastTime = last });

    private static Gen<SegmentNode> Tree(int depth) => depth == 0
        ? Leaf()
        : Gen.OneOf(
            Leaf(),
            Tree(depth - 1).Select(n => (SegmentNode)new NotOf(n)),
            Gen.Choose(1, 3).SelectMany(k => Gen.ArrayOf(Tree(depth - 1), k)).Select(items => (SegmentNode)new AllOf(items)),
            Gen.Choose(1, 3).SelectMany(k => Gen.ArrayOf(Tree(depth - 1), k)).Select(items => (SegmentNode)new AnyOf(items)));

    private static Gen<History> UserHistory(string user) =>
        from profileCount in Gen.Choose(0, 2)
        from profileValues in Gen.ArrayOf(Gen.Elements(Values), profileCount)
        from eventCount in Gen.Frequency((1, Gen.Constant(0)), (4, Gen.Choose(1, 5)))
        from names in Gen.ArrayOf(Gen.Elements(Names), eventCount)
        from edges in Gen.ArrayOf(Gen.Elements(Edges), eventCount)
        from props in Gen.ArrayOf(Gen.Elements(Values), eventCount)
        select new History(
            [.. profileValues.Select((v, i) => Build.Profile(user, Now.AddDays(-40 + i), props: ("p", v)))],
            [.. names.Select((n, i) => Build.Event(user, n, Now - edges[i], new Dictionary<string, object?> { ["q"] = props[i] }))]);

    private sealed record Case(string Prefix, Dictionary<string, History> Users, SegmentNode Segment);

    private static Gen<Case> Cases(int k) =>
        from histories in Gen.CollectToArray(Enumerable.Range(0, 5).Select(u => UserHistory($"c{k:D3}-u{u}")))
        from segment in Tree(2)
        select new Case($"c{k:D3}-", histories.Select((h, u) => (h, u)).ToDictionary(x => $"c{k:D3}-u{x.u}", x => x.h), segment);

    private static bool LiveMatches(SegmentNode segment, string user, History h)
    {
        var profile = h.Profiles.OrderBy(p => p.Ts).Aggregate(Profile.Empty(user), (p, u) => p.Merge(u));
        var behaviour = new BehaviourSummary();
        foreach (var e in h.Events.OrderBy(e => e.Ts)) behaviour.Record(e.Name, e.Ts);
        return SegmentEvaluator.Matches(segment, profile.Props, behaviour, Now);
    }

    [Fact]
    public async Task Random_segments_over_random_histories_give_the_oracles_members()
    {
        var seed = Environment.GetEnvironmentVariable("STREAMS_SEGMENT_SEED") is { } s ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : 20261201;
        var random = new Random(seed);
        var cases = Enumerable.Range(0, 150).Select(k => Cases(k).Sample(1, new Rnd((ulong)random.NextInt64()), 10).Single()).ToList();
        await LoadAsync(cases.SelectMany(c => c.Users).ToDictionary());

        var wrong = new List<string>();
        var live = 0;
        foreach (var c in cases)
        {
            var expected = SegmentOracle.Members(c.Segment, c.Users, Now);
            var actual = (await Store.SegmentUsersAsync(c.Segment, Now)).Where(u => u.StartsWith(c.Prefix, StringComparison.Ordinal)).ToList();
            if (!expected.SequenceEqual(actual))
                wrong.Add($"{SegmentOracle.Describe(c.Segment)}: oracle [{string.Join(", ", expected)}], store [{string.Join(", ", actual)}]");
            if (SegmentEvaluator.LiveProblems(c.Segment).Count > 0) continue;
            // What the live path can judge, it judges the same way: merged profile and per-day summary built as events arrive.
            live++;
            var judged = c.Users.Where(u => u.Value.Profiles.Count + u.Value.Events.Count > 0 && LiveMatches(c.Segment, u.Key, u.Value)).Select(u => u.Key).Order(StringComparer.Ordinal).ToList();
            if (!judged.SequenceEqual(actual))
                wrong.Add($"{SegmentOracle.Describe(c.Segment)}: live [{string.Join(", ", judged)}], store [{string.Join(", ", actual)}]");
        }
        Assert.True(wrong.Count == 0, $"seed {seed}: {wrong.Count} of {cases.Count} differ:\n" + string.Join("\n", wrong.Take(5)));
        Assert.True(live >= 10, $"only {live} of {cases.Count} cases could be judged live");
    }
}

public sealed class ClickHouseSegmentTests : SegmentContractTests
{
    protected override IAnalyticsStore Create() => ClickHouseStore.Create(Services.ClickHouse, "seg_" + Guid.NewGuid().ToString("N")[..12]);
}

public sealed class DuckDbSegmentTests : SegmentContractTests, IDisposable
{
    private readonly TempDir _dir = new();

    protected override IAnalyticsStore Create() => DuckDbStore.Open(Path.Combine(_dir, "analytics.duckdb"));

    public void Dispose() => _dir.Dispose();
}
