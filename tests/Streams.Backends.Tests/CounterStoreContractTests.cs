using Streams.Core;
using Streams.Counters;
using Streams.Tests;

namespace Streams.Backends.Tests;

/// <summary>One contract, run against Redis and against the in-process store.</summary>
public abstract class CounterStoreContractTests : IAsyncLifetime
{
    protected ICounterStore Store { get; private set; } = null!;
    private static readonly TimeSpan Keep = TimeSpan.FromMinutes(5);

    protected abstract Task<ICounterStore> CreateAsync();

    /// <summary>A second handle on the same counters, as another dispatcher process would have.</summary>
    protected abstract Task<ICounterStore> SecondHandleAsync();

    private static Slot Cap(string key, long limit) => new(CounterKind.Messages, key, limit, Keep, Reasons.FrequencyCapped);
    private static Slot Reach(string key, long limit) => new(CounterKind.Users, key, limit, Keep, Reasons.LimitReached);
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private Task<IReadOnlyList<HandOverResult>> HandOver(string owner, int wanted, params HandOver[] items) =>
        Store.HandOverAsync(items, owner, wanted, Now, Keep);

    /// <summary>One request handed over alone: null when it won, else the reason it was denied (or its state).</summary>
    private async Task<string?> Take(string requestId, string user, params Slot[] slots)
    {
        var answer = (await HandOver("a", 1, new HandOver(requestId, user, slots)))[0];
        return answer.State switch
        {
            HandOverState.Won => null,
            HandOverState.Denied => answer.DeniedReason,
            _ => answer.State.ToString(),
        };
    }

    [Fact]
    public async Task A_cap_of_three_allows_the_third_message_and_caps_the_fourth()
    {
        var cap = Cap("cap:u1:d:2026-12-01", 3);
        var answers = new List<string?>();
        for (var i = 0; i < 4; i++) answers.Add(await Take($"r{i}", "u1", cap));
        Assert.Equal(new List<string?> { null, null, null, Reasons.FrequencyCapped }, answers);
    }

    [Fact]
    public async Task A_request_handed_over_again_keeps_its_one_place_and_takes_no_second()
    {
        var cap = Cap("cap:u1:d:again", 1);
        Assert.Null(await Take("r1", "u1", cap));
        // The same owner again (its answer was lost to a Redis error, so it never called the provider): still its own.
        Assert.Null(await Take("r1", "u1", cap));
        Assert.Equal(Reasons.FrequencyCapped, await Take("r2", "u1", cap));
    }

    [Fact]
    public async Task A_reach_limit_counts_distinct_users_and_lets_counted_users_through()
    {
        var limit = Reach("limit:cart", 2);
        Assert.Null(await Take("r1", "u1", limit));
        Assert.Null(await Take("r2", "u1", limit));
        Assert.Null(await Take("r3", "u2", limit));
        Assert.Equal(Reasons.LimitReached, await Take("r4", "u3", limit));
        Assert.Null(await Take("r5", "u2", limit));
    }

    [Fact]
    public async Task A_denied_request_takes_nothing_and_reports_the_first_full_counter()
    {
        var reach = Reach("limit:c2", 1);
        var full = Cap("cap:u9:d:x", 0);
        var week = Cap("cap:u9:w:x", 5);
        Assert.Equal(Reasons.FrequencyCapped, await Take("r0", "u9", reach, full, week));
        // Nothing was taken: u9 is not counted toward the reach limit (its one place goes to u8), the week cap is untouched.
        Assert.Null(await Take("r8", "u8", reach));
        var answers = await HandOver("a", 6, [.. Enumerable.Range(1, 6).Select(i => new HandOver($"w{i}", "u9", [week]))]);
        Assert.Equal([HandOverState.Won, HandOverState.Won, HandOverState.Won, HandOverState.Won, HandOverState.Won, HandOverState.Denied], answers.Select(a => a.State));
    }

    [Fact]
    public async Task A_batch_is_judged_in_order_and_stops_once_the_wanted_sends_are_won()
    {
        var limit = Reach("limit:c3", 2);
        var answers = await HandOver("a", 10, new HandOver("r1", "a", [limit]), new HandOver("r2", "b", [limit]), new HandOver("r3", "c", [limit]), new HandOver("r4", "a", [limit]));
        Assert.Equal([HandOverState.Won, HandOverState.Won, HandOverState.Denied, HandOverState.Won], answers.Select(a => a.State));

        // One turn of the provider: the first send wins, the probe right after it is judged, the next send waits.
        var cap = Cap("cap:u7:d:x", 1);
        answers = await HandOver("a", 1, new HandOver("s1", "u7", [cap]), new HandOver("s2", "u7", [cap], Probe: true), new HandOver("s3", "u8", [Cap("cap:u8:d:x", 1)]));
        Assert.Equal([HandOverState.Won, HandOverState.Denied], answers.Select(a => a.State));
    }

    [Fact]
    public async Task A_probe_is_judged_against_the_counters_in_order_and_takes_nothing()
    {
        var cap = Cap("cap:u6:d:x", 1);
        var answers = await HandOver("a", 5, new HandOver("p1", "u6", [cap], Probe: true), new HandOver("p2", "u6", [cap], Probe: true), new HandOver("s1", "u6", [cap]), new HandOver("p3", "u6", [cap], Probe: true));
        Assert.Equal([HandOverState.Passed, HandOverState.Passed, HandOverState.Won, HandOverState.Denied], answers.Select(a => a.State));
    }

    [Fact]
    public async Task A_probe_that_passes_records_its_stop_as_the_requests_outcome()
    {
        var cap = Cap("cap:u9:d:x", 1);
        Assert.Equal(HandOverState.Passed, (await HandOver("a", 1, new HandOver("p9", "u9", [cap], Probe: true, Outcome: Reasons.ControlGroup)))[0].State);
        // The stop stands whatever the counters say later, and the probe took no place.
        Assert.Null(await Take("s9", "u9", cap));
        Assert.Equal([new HandOverResult(HandOverState.Outcome, "suppressed|control_group")], await Store.RecordedAsync(["p9"]));
    }

    [Fact]
    public async Task Releasing_a_refused_send_gives_back_its_own_places_and_claim_only()
    {
        var cap = Cap("cap:u4:d:x", 1);
        var limit = Reach("limit:c4", 1);
        Assert.Null(await Take("r4", "u4", limit, cap));
        Assert.Equal(Reasons.LimitReached, await Take("r5", "u5", limit));
        await Store.ReleaseAsync([new Release("r4", "u4", [limit, cap])], "b");   // another owner cannot take the claim back
        Assert.Equal(HandOverState.ClaimedByOther, (await HandOver("b", 1, new HandOver("r4", "u4", [limit, cap])))[0].State);
        await Store.ReleaseAsync([new Release("r4", "u4", [limit, cap])], "a");
        // r5's denial is its outcome for good: asked again, it answers the same stop.
        Assert.Equal((HandOverState.Outcome, "suppressed|limit_reached"), (await HandOver("a", 1, new HandOver("r5", "u5", [limit])))[0] is var again ? (again.State, again.Detail) : default);
        Assert.Null(await Take("r5b", "u5", limit));         // the reach place r4 gave back
        Assert.Null(await Take("r6", "u4", cap));            // and its cap place
        // u5 is counted by r5b: a release by another request of u5 does not remove it.
        await Store.ReleaseAsync([new Release("r7", "u5", [limit])], "a");
        Assert.Equal(Reasons.LimitReached, await Take("r8", "u6", limit));
    }

    [Fact]
    public async Task A_claim_of_another_owner_says_who_and_when_and_a_sent_request_says_what_was_recorded()
    {
        Assert.Null(await Take("c1", "u1"));
        var other = (await HandOver("b", 1, new HandOver("c1", "u1", [])))[0];
        Assert.Equal((HandOverState.ClaimedByOther, "a", (DateTimeOffset?)Now), (other.State, other.ClaimedBy, other.ClaimedAt));
        await Store.RecordSentAsync([new SentRecord("c1", "cart", "m-1|1|GSM-7|sandbox", "msg:sandbox:m-1", "note", Now.AddSeconds(1), "{}")], Keep);
        foreach (var owner in new[] { "a", "b" })
        {
            var sent = (await HandOver(owner, 1, new HandOver("c1", "u1", [])))[0];
            Assert.Equal((HandOverState.Sent, "m-1|1|GSM-7|sandbox"), (sent.State, sent.Detail));
        }
        Assert.Equal([new HandOverResult(HandOverState.Sent, "m-1|1|GSM-7|sandbox"), null], await Store.RecordedAsync(["c1", "never"]));
        Assert.Equal("note", await Store.RecallAsync("msg:sandbox:m-1"));
        Assert.Equal(1, (await Store.CampaignCountsAsync("cart"))["sent"]);
    }

    [Fact]
    public async Task Concurrent_hand_overs_of_one_request_have_exactly_one_winner()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Store.HandOverAsync([new HandOver("r4", "u1", [])], $"owner-{i}", 1, Now, Keep)));
        Assert.Single(answers, a => a[0].State == HandOverState.Won);
    }

    [Fact]
    public async Task Pending_reports_come_due_on_the_given_clock_leased_and_end_when_completed()
    {
        await Store.RecordSentAsync(
        [
            new SentRecord("d1", "cart", "m1", null, null, Now.AddSeconds(1), "one"),
            new SentRecord("d2", "cart", "m2", null, null, Now.AddHours(72), "two"),
        ], Keep);
        Assert.Empty(await Store.DueReportsAsync(Now, TimeSpan.FromSeconds(30), 10));
        Assert.Equal([new DueReport("d1", "one")], await Store.DueReportsAsync(Now.AddSeconds(1), TimeSpan.FromSeconds(30), 10));
        // Leased: not due again until the lease runs out (the process reporting it may have died).
        Assert.Empty(await Store.DueReportsAsync(Now.AddSeconds(2), TimeSpan.FromSeconds(30), 10));
        Assert.Equal([new DueReport("d1", "one")], await Store.DueReportsAsync(Now.AddSeconds(32), TimeSpan.FromSeconds(30), 10));
        await Store.CompleteReportsAsync(["d1"]);
        Assert.Equal([new DueReport("d2", "two")], await Store.DueReportsAsync(Now.AddHours(73), TimeSpan.FromSeconds(30), 10));
    }

    [Fact]
    public async Task Pacing_at_200_per_second_with_a_backlog_sends_2000_in_10_virtual_seconds_from_two_dispatchers()
    {
        await using var second = await SecondHandleAsync();
        var clock = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        var end = clock.AddSeconds(10);
        var key = $"sandbox-{Guid.NewGuid():N}";
        var sent = 0;
        var perWindow = new int[10];
        var turn = 0;
        // Two dispatchers, each with a backlog, ask for 20 at a time and wait as long as they are told.
        while (clock < end)
        {
            var store = turn++ % 2 == 0 ? Store : second;
            var pace = await store.PaceAsync(key, 200, 10, 20, clock);
            sent += pace.Granted;
            perWindow[(int)((clock - end.AddSeconds(-10)).TotalSeconds)] += pace.Granted;
            clock += pace.Granted > 0 ? TimeSpan.FromMilliseconds(1) : pace.RetryAfter;
        }
        Assert.InRange(sent, 1900, 2100);
        Assert.True(sent <= 2000 + 10, $"{sent} sends in 10 s at 200/s with a burst of 10");
        Assert.All(perWindow, n => Assert.InRange(n, 190, 210 + 10));
    }

    [Fact]
    public async Task Consent_follows_the_latest_change_whatever_order_changes_arrive_in()
    {
        var at = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        await Store.SetOptOutAsync("phone:+919876543210", true, at);
        await Store.SetOptOutAsync("phone:+919876543210", false, at.AddSeconds(-5)); // an older START arriving late
        await Store.SetOptOutAsync("user:u2", true, at);
        await Store.SetOptOutAsync("user:u2", false, at.AddSeconds(1));                // START after STOP
        Assert.Equal([true, false, false, true], await Store.OptedOutAsync(
        [
            ["user:u1", "phone:+919876543210"], ["user:u2", "phone:+919876543211"], [], ["phone:+919876543210"],
        ]));
    }

    [Fact]
    public async Task Two_handles_with_eight_tasks_each_never_exceed_a_cap_or_a_limit()
    {
        await using var second = await SecondHandleAsync();
        var cap = Cap("cap:shared:d:x", 100);
        var limit = Reach("limit:shared", 37);
        var granted = 0;
        var users = new System.Collections.Concurrent.ConcurrentBag<string>();
        async Task Worker(ICounterStore store, int worker)
        {
            for (var i = 0; i < 25; i++)
            {
                var user = $"w{worker}-{i % 5}";
                var answers = await store.HandOverAsync([new HandOver($"w{worker}-{i}-a", user, [limit, cap]), new HandOver($"w{worker}-{i}-b", user, [limit, cap])],
                    $"worker-{worker}", 2, Now, Keep);
                foreach (var g in answers.Where(g => g.State == HandOverState.Won))
                {
                    Interlocked.Increment(ref granted);
                    users.Add(user);
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, 16).Select(w => Task.Run(() => Worker(w < 8 ? Store : second, w))));
        Assert.True(granted <= 100, $"{granted} messages passed a cap of 100");
        Assert.True(users.Distinct().Count() <= 37, $"{users.Distinct().Count()} users passed a limit of 37");
        Assert.Equal(100, granted); // 800 attempts: the cap is reached exactly, never passed
    }

    public async Task InitializeAsync()
    {
        Store = await CreateAsync();
        await Store.SetEpochAsync("test");
    }

    [Fact]
    public async Task Nothing_is_handed_over_by_a_store_without_its_epoch()
    {
        await using var bare = await SecondHandleAsync();
        Assert.False(await bare.SetEpochAsync("other"));  // the store's own epoch is there already
        await using var fresh = await FreshAsync();
        await Assert.ThrowsAsync<CountersNotReadyException>(() => fresh.HandOverAsync([new HandOver("r1", "u1", [])], "a", 1, Now, Keep));
        Assert.True(await fresh.SetEpochAsync("e1"));
        Assert.Equal(HandOverState.Won, (await fresh.HandOverAsync([new HandOver("r1", "u1", [])], "a", 1, Now, Keep))[0].State);
    }

    /// <summary>A store with no data at all, as a Redis that restarted empty.</summary>
    protected abstract Task<ICounterStore> FreshAsync();
    public async Task DisposeAsync() => await Store.DisposeAsync();

    [Fact]
    public async Task Once_markers_are_true_only_the_first_time()
    {
        Assert.True(await Store.TryMarkOnceAsync("report:r5:delivered", Keep));
        Assert.False(await Store.TryMarkOnceAsync("report:r5:delivered", Keep));
        Assert.True(await Store.TryMarkOnceAsync("report:r5:failed", Keep));
        await Store.UnmarkOnceAsync("report:r5:delivered");
        Assert.True(await Store.TryMarkOnceAsync("report:r5:delivered", Keep));
    }

    [Fact]
    public async Task Remember_once_keeps_the_first_value_and_answers_it_to_later_callers()
    {
        Assert.Null(await Store.RememberOnceAsync("sandbox:r1", "sbx-r1", Keep));
        Assert.Equal("sbx-r1", await Store.RememberOnceAsync("sandbox:r1", "other", Keep));
        Assert.Equal("sbx-r1", await Store.RecallAsync("sandbox:r1"));
    }

    [Fact]
    public async Task Notes_are_recalled_by_key_and_a_later_note_replaces_an_earlier()
    {
        Assert.Null(await Store.RecallAsync("msg:sinch:b1:+919876543210"));
        await Store.RememberAsync("msg:sinch:b1:+919876543210", "r1|cart|u1", Keep);
        await Store.RememberAsync("msg:sinch:b1:+919876543211", "r2|cart|u2", Keep);
        Assert.Equal("r1|cart|u1", await Store.RecallAsync("msg:sinch:b1:+919876543210"));
        await Store.RememberAsync("msg:sinch:b1:+919876543210", "r3|cart|u1", Keep);
        Assert.Equal("r3|cart|u1", await Store.RecallAsync("msg:sinch:b1:+919876543210"));
    }

    [Fact]
    public async Task Campaign_counts_add_up_across_concurrent_increments()
    {
        await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => Store.IncrementAsync("c1", "sent")));
        await Store.CountAsync([("c1", "suppressed:opted_out"), ("c1", "suppressed:opted_out"), ("c1", "suppressed:opted_out")]);
        var counts = await Store.CampaignCountsAsync("c1");
        Assert.Equal(100, counts["sent"]);
        Assert.Equal(3, counts["suppressed:opted_out"]);
        Assert.Empty(await Store.CampaignCountsAsync("c2"));
    }
}

public sealed class RedisCounterStoreTests : CounterStoreContractTests
{
    private readonly string _prefix = $"test-{Guid.NewGuid():N}:";

    protected override async Task<ICounterStore> CreateAsync() => await RedisCounterStore.ConnectAsync(Services.Redis, _prefix);

    protected override async Task<ICounterStore> SecondHandleAsync() => await RedisCounterStore.ConnectAsync(Services.Redis, _prefix);

    protected override async Task<ICounterStore> FreshAsync() => await RedisCounterStore.ConnectAsync(Services.Redis, $"test-{Guid.NewGuid():N}:");
}

/// <summary>The embedded mode's store: the same Lua scripts on an in-process Garnet server.</summary>
public sealed class EmbeddedCounterStoreTests : CounterStoreContractTests
{
    private readonly string _prefix = $"test-{Guid.NewGuid():N}:";

    protected override async Task<ICounterStore> CreateAsync() => await TestCounters.CreateAsync(_prefix);

    protected override async Task<ICounterStore> SecondHandleAsync() => await TestCounters.CreateAsync(_prefix);

    protected override async Task<ICounterStore> FreshAsync() => await EmbeddedRedisFresh();

    private static async Task<ICounterStore> EmbeddedRedisFresh() =>
        await RedisCounterStore.ConnectAsync(TestCounters.Endpoint, $"test-{Guid.NewGuid():N}:");
}
