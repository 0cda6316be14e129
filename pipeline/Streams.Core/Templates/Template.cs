using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Streams.Core.Templates;

public sealed record TemplateValues(
    IReadOnlyDictionary<string, object?> Profile,
    IReadOnlyDictionary<string, object?> Event,
    IReadOnlyDictionary<string, object?> Campaign);

public sealed record RenderResult(string? Text, string? Missing)
{
    public bool Ok => Text is not null;
}

/// <summary>
/// The skeleton's substitution: <c>{{ profile.x }}</c>, <c>{{ event.x }}</c>, <c>{{ campaign.x }}</c>,
/// each with an optional <c>| default: 'text'</c>. A value that is missing and has no default fails the
/// render, so nobody receives "Hi ,". Liquid (Fluid) replaces this in the personalization issue.
/// </summary>
public static partial class Template
{
    [GeneratedRegex(@"\{\{\s*(?<scope>[A-Za-z_]+)\.(?<name>[A-Za-z0-9_.\-]+)\s*(?:\|\s*default:\s*(?:'(?<def>[^']*)'|""(?<def>[^""]*)"")\s*)?\}\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"\{\{.*?\}\}|\{%.*?%\}", RegexOptions.Singleline)]
    private static partial Regex AnyTag();

    private static readonly string[] Scopes = ["profile", "event", "campaign"];

    /// <summary>Problems that make the text unusable, for validate.</summary>
    public static IEnumerable<string> Check(string text)
    {
        foreach (Match tag in AnyTag().Matches(text))
        {
            var m = Placeholder().Match(tag.Value);
            if (!m.Success || m.Length != tag.Length)
            {
                yield return $"unsupported template expression '{tag.Value}' (supported: {{{{ profile.x }}}}, {{{{ event.x }}}}, {{{{ campaign.x }}}} with | default: '...')";
                continue;
            }
            if (!Scopes.Contains(m.Groups["scope"].Value))
                yield return $"unknown variable scope '{m.Groups["scope"].Value}' in '{tag.Value}' (use profile, event or campaign)";
        }
        var stray = AnyTag().Replace(text, "");
        if (stray.Contains("{{", StringComparison.Ordinal) || stray.Contains("}}", StringComparison.Ordinal))
            yield return "unbalanced '{{' or '}}'";
    }

    public static RenderResult Render(string text, TemplateValues values)
    {
        string? missing = null;
        var result = Placeholder().Replace(text, m =>
        {
            var bag = m.Groups["scope"].Value switch
            {
                "profile" => values.Profile,
                "event" => values.Event,
                _ => values.Campaign,
            };
            var name = m.Groups["name"].Value;
            if (bag.TryGetValue(name, out var v) && v is not null && Format(v) is { Length: > 0 } s) return s;
            if (m.Groups["def"].Success) return m.Groups["def"].Value;
            missing ??= $"{m.Groups["scope"].Value}.{name}";
            return "";
        });
        return missing is null ? new RenderResult(result, null) : new RenderResult(null, missing);
    }

    private static string Format(object v) => v switch
    {
        double d => d.ToString("0.##", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };
}
