using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Streams.Core;
using Streams.Tests;

namespace Streams.Dispatcher.Tests;

/// <summary>
/// The control group decided where the send would be (real Redis counters): a held-out user is an exposure at the same
/// instant a sent user's is, takes no cap or limit place, and is only drawn from users every check would let through.
/// </summary>
public sealed class ControlGroupTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Now);

    private static readonly string[] Users = [.. Enumerable.Range(0, 400).Select(i => $"u{i:D3}")];
    private static readonly string Held = Users.First(u => SendDecision.InControlGroup("cart", u, 50));
    private static readonly string Sent = Users.First(u => !SendDecision.InControlGroup("cart", u, 50));

    private RequestHandler Handler(RecordingProvider provider, string goal, FrequencyCaps? caps = null, double globalControl = 0) =>
        new(TestCounters.Create(), new FixedProviders(provider, anyName: true),
            FixedCampaigns.ForAnyId(Build.Entry(Build.LiveYaml(extra: "goal: " + goal), at: Now)), _time, NullLogger.Instance, "test",
            new DispatchSettings { Caps = caps ?? FrequencyCaps.None, GlobalControl = globalControl });

    [Fact]
    public async Task A_control_users_exposure_is_recorded_at_the_same_instant_as_a_sent_users_and_takes_no_place()
    {
        var provider = new RecordingProvider();
        // A reach limit of one user: the held-out user, handled first, must not take the only place.
        var handler = new RequestHandler(TestCounters.Create(), new FixedProviders(provider, anyName: true),
            FixedCampaigns.ForAnyId(Build.Entry("""
                id: cart
                name: Cart
                type: live
                who: {trigger: {event: E}, reach: {limit: 1}}
                what: {provider: sandbox, text: Hi}
                goal: {control_group: 50}
                """, at: Now)), _time, NullLogger.Instance, "test", new DispatchSettings());
        var output = await handler.HandleBatchAsync([Build.Request("r-held", "cart", Held, at: Now), Build.Request("r-sent", "cart", Sent, at: Now)], CancellationToken.None);

        var held = output.Results.Single(r => r.RequestId == "r-held");
        var sent = output.Results.Single(r => r.RequestId == "r-sent" && r.Status == ResultStatus.Sent);
        Assert.Equal((ResultStatus.Suppressed, Reasons.ControlGroup), (held.Status, held.Reason));
        Assert.Equal(sent.Ts, held.Ts);
        Assert.Equal([("r-held", ExposureGroup.Control), ("r-sent", ExposureGroup.Treatment)],
            output.Results.Where(r => ExposureGroup.Of(r) is not null).Select(r => (r.RequestId, ExposureGroup.Of(r)!)).OrderBy(r => r.RequestId, StringComparer.Ordinal));
        Assert.Single(provider.Calls);

        // The limit is full now (the sent user took it): a held-out user is judged by it too, and is no exposure then.
        var after = await handler.HandleBatchAsync([Build.Request("r-held-2", "cart", Users.Where(u => SendDecision.InControlGroup("cart", u, 50)).Skip(1).First(), at: Now)], CancellationToken.None);
        Assert.Equal(Reasons.LimitReached, Assert.Single(after.Results).Reason);
    }

    [Fact]
    public async Task A_held_out_user_over_the_frequency_cap_is_capped_not_an_exposure()
    {
        var provider = new RecordingProvider();
        var counters = TestCounters.Create();
        var caps = new DispatchSettings { Caps = new FrequencyCaps(1, null) };
        var plain = new RequestHandler(counters, new FixedProviders(provider, anyName: true), FixedCampaigns.ForAnyId(Build.Entry(Build.LiveYaml(), at: Now)),
            _time, NullLogger.Instance, "test", caps);
        var held = new RequestHandler(counters, new FixedProviders(provider, anyName: true),
            FixedCampaigns.ForAnyId(Build.Entry(Build.LiveYaml(extra: "goal: {control_group: 50}"), at: Now)), _time, NullLogger.Instance, "test", caps);
        // Held out first: no slot is taken, so the day's one message can still go to this user.
        Assert.Equal(Reasons.ControlGroup, Assert.Single((await held.HandleBatchAsync([Build.Request("day-0", "cart", Held, at: Now)], CancellationToken.None)).Results).Reason);
        Assert.Equal(ResultStatus.Sent, (await plain.HandleBatchAsync([Build.Request("day-1", "cart", Held, at: Now)], CancellationToken.None)).Results.First().Status);
        Assert.Equal(Reasons.FrequencyCapped, Assert.Single((await held.HandleBatchAsync([Build.Request("day-2", "cart", Held, at: Now)], CancellationToken.None)).Results).Reason);
    }

    [Fact]
    public async Task The_global_control_group_holds_out_at_the_same_point_and_transactional_campaigns_still_send()
    {
        var user = Users.First(u => SendDecision.InGlobalControl(u, 10));
        var provider = new RecordingProvider();
        var output = await Handler(provider, "{control_group: 0}", globalControl: 10).HandleBatchAsync([Build.Request("g1", "cart", user, at: Now)], CancellationToken.None);
        Assert.Equal((ResultStatus.Suppressed, Reasons.GlobalControl), (Assert.Single(output.Results).Status, output.Results[0].Reason));
        var receipt = await Handler(provider, "{transactional: true}", globalControl: 10).HandleBatchAsync([Build.Request("g2", "cart", user, at: Now)], CancellationToken.None);
        Assert.Equal(ResultStatus.Sent, receipt.Results.First().Status);
    }

    [Fact]
    public async Task A_request_stopped_by_a_full_limit_keeps_that_stop_when_redelivered_after_the_campaign_completed()
    {
        // Found by the chaos run: the redelivery said campaign_inactive, a second terminal result for one request.
        const string Limited = """
            id: cart
            name: Cart
            type: live
            who: {trigger: {event: E}, reach: {limit: 1}}
            what: {provider: sandbox, text: Hi}
            """;
        var counters = TestCounters.Create();
        var provider = new RecordingProvider();
        RequestHandler With(CampaignStatus status) => new(counters, new FixedProviders(provider, anyName: true),
            FixedCampaigns.ForAnyId(Build.Entry(Limited, status, at: Now)), _time, NullLogger.Instance, "test", new DispatchSettings());
        var first = await With(CampaignStatus.Active).HandleBatchAsync([Build.Request("r1", "cart", "a", at: Now), Build.Request("r2", "cart", "b", at: Now)], CancellationToken.None);
        Assert.Equal(Reasons.LimitReached, first.Results.Single(r => r.RequestId == "r2").Reason);
        Assert.Equal(CampaignStatus.Completed, Assert.Single(first.Completed).Status);
        var again = await With(CampaignStatus.Completed).HandleBatchAsync([Build.Request("r2", "cart", "b", at: Now)], CancellationToken.None);
        Assert.Equal((ResultStatus.Suppressed, Reasons.LimitReached), (Assert.Single(again.Results).Status, again.Results[0].Reason));
    }
}
