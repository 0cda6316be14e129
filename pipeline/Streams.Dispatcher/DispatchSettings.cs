using Streams.Core;

namespace Streams.Dispatcher;

/// <summary>The settings of the send chain that come from configuration.</summary>
public sealed record DispatchSettings
{
    public FrequencyCaps Caps { get; init; } = FrequencyCaps.None;

    /// <summary>The configured DND hours for campaigns that set none.</summary>
    public DndWindow? DefaultDnd { get; init; }

    /// <summary>The global hold-out percent (control.global_percent); 0 for none.</summary>
    public double GlobalControl { get; init; }

    /// <summary>
    /// How long an attempt may hold a claim before another owner treats its outcome as unknown: longer than a
    /// provider call with its retries. A claim younger than this makes the request wait (sms.scheduled) and look again.
    /// </summary>
    public TimeSpan ClaimLease { get; init; } = TimeSpan.FromSeconds(60);
}
