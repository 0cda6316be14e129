namespace Streams.Topologies;

public static class StoreNames
{
    public const string Campaigns = "campaigns-store";
    /// <summary>Per-user state of the live-trigger topology: merged profile ("p|user") and inaction timers ("t|due|campaign|user", "i|campaign|user").</summary>
    public const string UserState = "user-state-store";
    public const string Timers = "timers-store";
    /// <summary>Per-user ledger of the attribution topology: exposures and recent goal events.</summary>
    public const string Attribution = "attribution-store";
}
