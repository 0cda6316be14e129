using Microsoft.Extensions.Time.Testing;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Mock;
using Streams.Core;
using Streams.Topologies.LiveTrigger;
using Streams.Tests;

namespace Streams.Topologies.Tests;

/// <summary>
/// A new user's profile and first event are produced together but read from two topics side by side: an event of a
/// user with no profile yet waits for it (the profile wait), on a virtual clock.
/// </summary>
public sealed class ProfileWaitTests : IDisposable
{
    private static readonly DateTimeOffset A = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(2);
    private readonly TempDir _stateDir = new();
    private readonly FakeTimeProvider _time = new(A);

    // The segment reads a profile property: judged without the profile, the user would not even qualify.
    private const string Welcome = """
        id: welcome
        name: Welcome
        type: live
        who:
          trigger: {event: Signed Up}
          segment: {profile: {prop: plan, op: eq, value: pro}}
        what: {provider: sandbox, text: "Welcome"}
        """;

    private const string Any = """
        id: any
        name: Any
        type: live
        who: {trigger: {event: Signed Up}}
        what: {provider: sandbox, text: "Hi"}
        """;

    /// <summary>Profiles with a phone and the plan the Welcome segment asks for.</summary>
    private sealed class Pipe(TopologyTestDriver driver, FakeTimeProvider time) : LivePipe(driver, time)
    {
        public void Profile(string user) => Profile(user, "+919876543210", """{"plan":"pro"}""");
    }

    private Pipe Start(string id, string yaml, TimeSpan wait)
    {
        var driver = Drivers.Start("profile-wait-test", _stateDir, b => LiveTriggerTopology.Build(b, new LiveTriggerOptions { Time = _time, ProfileWait = wait }));
        var pipe = new Pipe(driver, _time);
        pipe.Campaign(id, yaml);
        return pipe;
    }

    [Fact]
    public void An_event_read_before_the_users_first_profile_is_judged_with_it_when_it_comes()
    {
        using var pipe = Start("welcome", Welcome, Wait);
        pipe.Event("u1", "Signed Up");
        Assert.Empty(pipe.Requests());
        pipe.Advance(Wait - TimeSpan.FromMilliseconds(1));
        pipe.Profile("u1");
        var request = Assert.Single(pipe.Requests());
        Assert.Equal((RequestIds.ForTrigger("welcome", "u1", "Signed Up", A), "+919876543210"), (request.RequestId, request.Context.Phone));
        pipe.Advance(TimeSpan.FromMinutes(1));
        Assert.Empty(pipe.Requests());
    }

    [Fact]
    public void Without_a_profile_held_events_are_judged_in_order_exactly_at_the_wait_end()
    {
        using var pipe = Start("any", Any, Wait);
        pipe.Event("u1", "Signed Up");
        pipe.Advance(TimeSpan.FromMilliseconds(500));
        pipe.Event("u1", "Signed Up");
        // The first held event sets the wait's end for both.
        pipe.Advance(Wait - TimeSpan.FromMilliseconds(501));
        Assert.Empty(pipe.Requests());
        pipe.Advance(TimeSpan.FromMilliseconds(1));
        var requests = pipe.Requests();
        Assert.Equal([A, A.AddMilliseconds(500)], requests.Select(r => r.Context.EventTs));
        Assert.All(requests, r => Assert.Null(r.Context.Phone));
        // No profile still: the next event waits again, from its own arrival.
        pipe.Event("u1", "Signed Up");
        pipe.Advance(Wait - TimeSpan.FromMilliseconds(1));
        Assert.Empty(pipe.Requests());
        pipe.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Single(pipe.Requests());
    }

    [Fact]
    public void An_event_of_a_user_with_a_profile_is_judged_at_once()
    {
        using var pipe = Start("welcome", Welcome, Wait);
        pipe.Profile("u1");
        pipe.Event("u1", "Signed Up");
        Assert.Equal("+919876543210", Assert.Single(pipe.Requests()).Context.Phone);
    }

    [Fact]
    public void With_no_profile_wait_an_event_is_judged_at_once_without_a_profile()
    {
        using var pipe = Start("any", Any, TimeSpan.Zero);
        pipe.Event("u1", "Signed Up");
        Assert.Null(Assert.Single(pipe.Requests()).Context.Phone);
    }

    public void Dispose() => _stateDir.Dispose();
}
