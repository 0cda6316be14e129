using Streams.Counters;
using Streams.Tests;

namespace Streams.Backends.Tests;

/// <summary>One contract, run against Redis and against the in-process store.</summary>
public abstract class CounterStoreContractTests : IAsyncLifetime
{
    protected ICounterStore Store { get; private set; } = null!;
    private static readonly TimeSpan Keep = TimeSpan.FromMinutes(5);

    protected abstract Task<ICounterStore> CreateAsync();

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
    protected override async Task<ICounterStore> CreateAsync() =>
        await RedisCounterStore.ConnectAsync(Services.Redis, $"test-{Guid.NewGuid():N}:");
}

public sealed class InProcessCounterStoreTests : CounterStoreContractTests
{
    protected override Task<ICounterStore> CreateAsync() => Task.FromResult<ICounterStore>(new InProcessCounterStore());
}
