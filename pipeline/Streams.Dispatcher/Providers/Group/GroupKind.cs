namespace Streams.Dispatcher.Providers;

/// <summary>A failover group: its members in order, each with its own pacing.</summary>
public sealed class GroupKind : ProviderKind
{
    public override string TypeName => FailoverProvider.TypeName;

    public override IReadOnlyList<string> Keys => ["members"];

    public override string? Problem(string name, ProviderOptions o, IReadOnlyDictionary<string, ProviderOptions> all)
    {
        if (o.Members.Count == 0) return $"providers.{name}: a group needs members";
        foreach (var m in o.Members)
        {
            if (m == SandboxProvider.TypeName) continue;
            if (!all.TryGetValue(m, out var member)) return $"providers.{name}.members: no provider named '{m}'";
            if (member.Type == TypeName) return $"providers.{name}.members: '{m}' is a group; groups do not nest";
        }
        return null;
    }

    public override ISmsProvider Create(string name, ProviderOptions o, ProviderContext context) =>
        new FailoverProvider(name, [.. o.Members.Select(context.Member)]);
}
