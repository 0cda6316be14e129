namespace Streams.Dispatcher.Tests;

/// <summary>Reading decisions in tests: a stop may come before the counters (Suppress) or after them (Send.After).</summary>
internal static class Decisions
{
    public static Send Sent(Decision decision)
    {
        var send = Assert.IsType<Send>(decision);
        Assert.Null(send.After);
        return send;
    }

    public static Suppress Stopped(Decision decision) => decision switch
    {
        Suppress suppress => suppress,
        Send { After: { } after } => after,
        _ => throw new Xunit.Sdk.XunitException($"expected a stop, got {decision}"),
    };
}
