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

    private async Task<string?> Take(string member, params Slot[] slots) =>
        (await Store.TakeSlotsAsync([new SlotRequest(member, slots)]))[0].DeniedReason;

    [Fact]
    public async Task A_cap_of_three_allows_the_third_message_and_caps_the_fourth()
    {
        var cap = Cap("cap:u1:d:2026-12-01", 3);
        var answers = new List<string?>();
        for (var i = 0; i < 4; i++) answers.Add(await Take("u1", cap));
        Assert.Equal(new List<string?> { null, null, null, Reasons.FrequencyCapped }, answers);
    }

    [Fact]
    public async Task A_reach_limit_counts_distinct_users_and_lets_counted_users_through()
    {
        var limit = Reach("limit:cart", 2);
        Assert.Null(await Take("u1", limit));
        Assert.Null(await Take("u1", limit));
        Assert.Null(await Take("u2", limit));
        Assert.Equal(Reasons.LimitReached, await Take("u3", limit));
        Assert.Null(await Take("u2", limit));
    }

    [Fact]
    public async Task A_denied_request_takes_nothing_and_reports_the_first_full_counter()
    {
        var reach = Reach("limit:c2", 10);
        var full = Cap("cap:u9:d:x", 0);
        var week = Cap("cap:u9:w:x", 5);
        Assert.Equal(Reasons.FrequencyCapped, await Take("u9", reach, full, week));
        // Nothing was taken: u9 is not counted toward the reach limit, the week cap is untouched.
        var grants = await Store.TakeSlotsAsync([new SlotRequest("u9", [week]), new SlotRequest("u9", [week]), new SlotRequest("u9", [week]),
            new SlotRequest("u9", [week]), new SlotRequest("u9", [week]), new SlotRequest("u9", [week])]);
        Assert.Equal([true, true, true, true, true, false], grants.Select(g => g.Granted));
    }

    [Fact]
    public async Task A_batch_is_decided_in_order()
    {
        var limit = Reach("limit:c3", 2);
        var grants = await Store.TakeSlotsAsync([new SlotRequest("a", [limit]), new SlotRequest("b", [limit]), new SlotRequest("c", [limit]), new SlotRequest("a", [limit])]);
        Assert.Equal(new List<string?> { null, null, Reasons.LimitReached, null }, grants.Select(g => g.DeniedReason).ToList());
    }

    [Fact]
    public async Task Releasing_a_failed_send_gives_its_slots_back_but_not_an_earlier_membership()
    {
        var cap = Cap("cap:u4:d:x", 1);
        var limit = Reach("limit:c4", 1);
        var first = (await Store.TakeSlotsAsync([new SlotRequest("u4", [limit, cap])]))[0];
        Assert.Equal([true, true], first.Added);
        await Store.ReleaseSlotsAsync(new SlotRequest("u4", [limit, cap]), first);
        Assert.Null(await Take("u5", limit));          // the reach slot u4 gave back
        Assert.Null(await Take("u4", cap));            // and its cap slot
        var again = (await Store.TakeSlotsAsync([new SlotRequest("u5", [limit])]))[0];
        Assert.Equal([false], again.Added);            // u5 was already counted
        await Store.ReleaseSlotsAsync(new SlotRequest("u5", [limit]), again);
        Assert.Equal(Reasons.LimitReached, await Take("u6", limit));
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
                var grants = await store.TakeSlotsAsync([new SlotRequest(user, [limit, cap]), new SlotRequest(user, [limit, cap])]);
                foreach (var g in grants.Where(g => g.Granted))
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

    public async Task InitializeAsync() => Store = await CreateAsync();
    public async Task DisposeAsync() => await Store.DisposeAsync();

    [Fact]
    public async Task First_claim_wins_and_later_claims_see_who_holds_it()
    {
        Assert.Equal(new Claim(true, SendState.Absent, null), await Store.ClaimAsync("r1", "a", Keep));
        Assert.Equal(new Claim(true, SendState.Absent, null), await Store.ClaimAsync("r1", "a", Keep));
        Assert.Equal(new Claim(false, SendState.Claimed, "a"), await Store.ClaimAsync("r1", "b", Keep));
    }

    [Fact]
    public async Task A_sent_request_is_never_claimable_again_and_keeps_its_detail()
    {
        await Store.ClaimAsync("r2", "a", Keep);
        await Store.MarkSentAsync("r2", "m-1|1|GSM-7", Keep);
        Assert.Equal(new Claim(false, SendState.Sent, "m-1|1|GSM-7"), await Store.ClaimAsync("r2", "a", Keep));
        Assert.Equal(new Claim(false, SendState.Sent, "m-1|1|GSM-7"), await Store.ClaimAsync("r2", "b", Keep));
        await Store.ClaimAsync("r3", "a", Keep);
        Assert.Equal(["m-1|1|GSM-7", null, null], await Store.SentDetailsAsync(["r2", "r3", "r-never"]));
    }

    [Fact]
    public async Task A_released_claim_can_be_taken_by_another_owner()
    {
        await Store.ClaimAsync("r3", "a", Keep);
        await Store.ReleaseAsync("r3");
        Assert.True((await Store.ClaimAsync("r3", "b", Keep)).Won);
    }

    [Fact]
    public async Task Concurrent_claims_have_exactly_one_winner()
    {
        var claims = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Store.ClaimAsync("r4", $"owner-{i}", Keep)));
        Assert.Single(claims, c => c.Won);
    }

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
        await Store.IncrementAsync("c1", "suppressed:opted_out", 3);
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
}

/// <summary>The embedded mode's store: the same Lua scripts on an in-process Garnet server.</summary>
public sealed class EmbeddedCounterStoreTests : CounterStoreContractTests
{
    private readonly string _prefix = $"test-{Guid.NewGuid():N}:";

    protected override async Task<ICounterStore> CreateAsync() => await TestCounters.CreateAsync(_prefix);

    protected override async Task<ICounterStore> SecondHandleAsync() => await TestCounters.CreateAsync(_prefix);
}
