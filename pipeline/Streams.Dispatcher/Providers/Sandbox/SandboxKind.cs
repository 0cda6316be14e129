namespace Streams.Dispatcher.Providers;

public sealed class SandboxKind : ProviderKind
{
    public override string TypeName => SandboxProvider.TypeName;

    public override IReadOnlyList<string> Keys => [];

    public override ISmsProvider Create(string name, ProviderOptions o, ProviderContext context) =>
        new SandboxProvider(name, Path.Combine(context.StateDir, "outbox.jsonl"), context.Time, context.Counters);
}
