using System.Collections;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Streams.Core;
using Streams.Dispatcher.Providers;

namespace Streams.Pipeline;

/// <summary>
/// Checks every key of the configuration, at every depth, against the options it binds to: a typo
/// (<c>limits.per_user.dya</c>) would otherwise bind nothing and silently turn a cap off. Provider
/// sections are checked against the keys of their own type.
/// </summary>
public static class ConfigKeys
{
    /// <summary>The keys each provider type reads, beside the common ones.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> ProviderKeys =>
        ProviderKind.All.ToDictionary(k => k.Key, k => k.Value.Keys);

    public static void Check(IConfiguration config) => CheckObject(config.GetChildren(), typeof(StreamsOptions), "");

    private static void CheckObject(IEnumerable<IConfigurationSection> children, Type type, string path)
    {
        var properties = Bindable(type);
        foreach (var child in children)
        {
            var childPath = Join(path, child.Key);
            if (!properties.TryGetValue(child.Key, out var property))
                throw Unknown(childPath, properties.Keys);
            if (type == typeof(StreamsOptions) && property.Name == nameof(StreamsOptions.Providers))
            {
                foreach (var provider in child.GetChildren()) CheckProvider(provider, Join(childPath, provider.Key));
                continue;
            }
            CheckValue(child, property.PropertyType, childPath);
        }
    }

    private static void CheckValue(IConfigurationSection section, Type type, string path)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        var children = section.GetChildren().ToList();
        if (IsScalar(target))
        {
            if (children.Count > 0) throw new ConfigException($"{path}: must be a single value, not a section");
            return;
        }
        if (target.IsGenericType && target.GetGenericTypeDefinition() == typeof(List<>))
        {
            var element = target.GetGenericArguments()[0];
            if (section.Value is { Length: > 0 }) throw new ConfigException($"{path}: must be a list");
            foreach (var item in children)
            {
                if (!int.TryParse(item.Key, out _)) throw new ConfigException($"{path}: must be a list (found key '{item.Key}')");
                CheckValue(item, element, $"{path}[{item.Key}]");
            }
            return;
        }
        if (section.Value is { Length: > 0 }) throw new ConfigException($"{path}: must be a section with keys {string.Join(", ", Bindable(target).Keys)}");
        CheckObject(children, target, path);
    }

    private static void CheckProvider(IConfigurationSection provider, string path)
    {
        var type = provider.GetChildren().FirstOrDefault(c => c.Key.Equals("type", StringComparison.OrdinalIgnoreCase))?.Value ?? "sandbox";
        // An unknown type is reported by the provider checks with the list of types.
        if (!ProviderKind.All.TryGetValue(type, out var kind)) return;
        var allowed = ProviderKind.CommonKeys.Concat(kind.Keys).ToArray();
        foreach (var key in provider.GetChildren())
        {
            if (!allowed.Contains(key.Key, StringComparer.OrdinalIgnoreCase))
                throw Unknown(Join(path, key.Key), allowed, $" for a {type} provider");
        }
        CheckObject(provider.GetChildren(), typeof(ProviderOptions), path);
    }

    private static ConfigException Unknown(string path, IEnumerable<string> expected, string what = "") =>
        new($"unknown configuration key '{path}'{what} (expected one of: {string.Join(", ", expected)})");

    private static string Join(string path, string key) => path.Length == 0 ? key.ToLowerInvariant() : $"{path}.{key.ToLowerInvariant()}";

    private static bool IsScalar(Type t) => t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || t == typeof(TimeSpan);

    /// <summary>Settable properties by the name configuration uses (ConfigurationKeyName, else the property name).</summary>
    private static Dictionary<string, PropertyInfo> Bindable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.GetIndexParameters().Length == 0 && !typeof(Delegate).IsAssignableFrom(p.PropertyType))
            .Where(p => p.PropertyType == typeof(string) || !typeof(IEnumerable).IsAssignableFrom(p.PropertyType) || p.PropertyType.IsGenericType)
            .ToDictionary(p => p.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name ?? p.Name.ToLowerInvariant(), StringComparer.OrdinalIgnoreCase);
}
