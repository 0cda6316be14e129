namespace Streams.Core;

/// <summary>Every topic and store name, in one place. Topic names get the configured prefix.</summary>
public sealed record Topics(string Prefix = "sms.")
{
    public string Events => Prefix + "events";
    public string Profiles => Prefix + "profiles";
    public string Campaigns => Prefix + "campaigns";
    public string Requests => Prefix + "requests";
    public string Scheduled => Prefix + "scheduled";
    public string Results => Prefix + "results";
    public string Conversions => Prefix + "conversions";
    public string Inbound => Prefix + "inbound";
    public string Dlq => Prefix + "dlq";

    public IReadOnlyList<string> All => [Events, Profiles, Campaigns, Requests, Scheduled, Results, Conversions, Inbound, Dlq];

    public static Topics Default { get; } = new();
}

public static class StoreNames
{
    public const string Campaigns = "campaigns-store";
    /// <summary>Per-user state of the live-trigger topology: merged profile ("p|user") and inaction timers ("t|due|campaign|user", "i|campaign|user").</summary>
    public const string UserState = "user-state-store";
    public const string Timers = "timers-store";
}

/// <summary>Header names on sms.dlq records.</summary>
public static class DlqHeaders
{
    public const string Error = "dlq.error";
    public const string Reason = "dlq.reason";
    public const string SourceTopic = "dlq.source.topic";
    public const string SourcePartition = "dlq.source.partition";
    public const string SourceOffset = "dlq.source.offset";
    public const string Stage = "dlq.stage";
}
