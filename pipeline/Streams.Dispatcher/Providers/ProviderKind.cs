using Streams.Counters;

namespace Streams.Dispatcher.Providers;

/// <summary>What building a provider may use: the shared HTTP client, the clock, the state directory, the counter
/// store of a running pipeline (absent for a one-off test send) and the other providers (a group's members).</summary>
public sealed record ProviderContext(HttpClient Http, TimeProvider Time, string StateDir, ICounterStore? Counters, Func<string, ISmsProvider> Member);

/// <summary>
/// One provider type, everything about it in its own folder: the keys its configuration section reads, what makes a
/// section unusable (checked at load), whether campaigns must name a sender, and how the provider is built.
/// </summary>
public abstract class ProviderKind
{
    /// <summary>Keys every provider section may have, beside its type's own.</summary>
    public static readonly IReadOnlyList<string> CommonKeys =
        ["type", "rate", "burst", "timeout_ms", "max_retries", "retry_delay_ms", "break_for_ms", "report_timeout", "concurrency"];

    public static readonly IReadOnlyDictionary<string, ProviderKind> All = new ProviderKind[]
    {
        new SandboxKind(), new SinchKind(), new TwilioKind(), new KannelKind(), new HttpGatewayKind(), new GroupKind(),
    }.ToDictionary(k => k.TypeName);

    public abstract string TypeName { get; }

    public abstract IReadOnlyList<string> Keys { get; }

    /// <summary>What is wrong with the section, as one line naming the key; null when it can be used.</summary>
    /// <param name="all">Every configured provider (a group's members are among them).</param>
    public virtual string? Problem(string name, ProviderOptions o, IReadOnlyDictionary<string, ProviderOptions> all) => null;

    /// <summary>Whether a campaign must name a sender when the section gives none.</summary>
    public virtual bool NeedsSender(ProviderOptions o) => false;

    public abstract ISmsProvider Create(string name, ProviderOptions o, ProviderContext context);

    protected static ResilienceSettings Resilience(ProviderOptions o) => new()
    {
        Timeout = TimeSpan.FromMilliseconds(o.TimeoutMs),
        MaxRetries = o.MaxRetries,
        RetryDelay = TimeSpan.FromMilliseconds(o.RetryDelayMs),
        BreakFor = TimeSpan.FromMilliseconds(o.BreakForMs),
    };

    protected static bool HasSecret(ProviderOptions o) => o.TokenEnv is not null || o.TokenFile is not null;

    /// <summary>The webhook secrets of every configured provider of a type that has one.</summary>
    protected static List<string> WebhookSecrets(string type, IReadOnlyDictionary<string, ProviderOptions> all) =>
        [.. all.Where(p => p.Value.Type == type && p.Value.WebhookSecretEnv is not null)
            .Select(p => p.Value.Secret(p.Key, p.Value.WebhookSecretEnv, "webhook secret"))];
}
