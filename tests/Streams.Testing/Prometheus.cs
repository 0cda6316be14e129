using System.Globalization;

namespace Streams.Tests;

/// <summary>Reads a value out of a Prometheus text scrape, whatever other labels (otel_scope_*) a series carries.</summary>
public static class Prometheus
{
    /// <summary>The value of the series named <paramref name="name"/> with every given label, or 0 when there is none.</summary>
    public static double Value(string scrape, string name, params (string Label, string Value)[] labels)
    {
        foreach (var line in scrape.Split('\n'))
        {
            if (!line.StartsWith(name + "{", StringComparison.Ordinal) && !line.StartsWith(name + " ", StringComparison.Ordinal)) continue;
            var close = line.IndexOf('}');
            var set = close < 0 ? "" : line[(name.Length + 1)..close];
            if (!labels.All(l => set.Contains($"{l.Label}=\"{l.Value}\"", StringComparison.Ordinal))) continue;
            var rest = line[((close < 0 ? name.Length : close) + 1)..].Trim().Split(' ');
            return double.Parse(rest[0], CultureInfo.InvariantCulture);
        }
        return 0;
    }
}
