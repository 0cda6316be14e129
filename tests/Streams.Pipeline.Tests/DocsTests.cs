using System.Text.RegularExpressions;

namespace Streams.Pipeline.Tests;

/// <summary>The repository stands alone: README and docs/ point only inside it, and the configuration reference names every key.</summary>
public sealed partial class DocsTests
{
    [GeneratedRegex(@"\]\((?<target>[^)#]+)(#[^)]*)?\)")]
    private static partial Regex Link();

    private static IEnumerable<string> Pages() =>
        Directory.EnumerateFiles(Path.Combine(Streams.Tests.Repository.Root, "docs"), "*.md").Append(Path.Combine(Streams.Tests.Repository.Root, "README.md"));

    [Fact]
    public void Readme_and_docs_link_only_to_files_inside_the_repository()
    {
        foreach (var page in Pages())
        {
            var text = File.ReadAllText(page);
            Assert.DoesNotContain("shared/", text);
            Assert.DoesNotContain("PRODUCT.md", text);
            foreach (Match m in Link().Matches(text))
            {
                var target = m.Groups["target"].Value;
                if (target.StartsWith("http", StringComparison.Ordinal)) continue;
                var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, target));
                Assert.True(resolved.StartsWith(Streams.Tests.Repository.Root, StringComparison.Ordinal), $"{page} links outside the repository: {target}");
                Assert.True(File.Exists(resolved) || Directory.Exists(resolved), $"{page} links to a missing file: {target}");
            }
        }
    }

    [Fact]
    public void The_analysts_guide_shows_the_sql_of_every_number_the_report_shows()
    {
        var guide = File.ReadAllText(Path.Combine(Streams.Tests.Repository.Root, "docs", "analysts.md"));
        var sql = new Analytics.Reports.ReportSql(Analytics.Segments.SqlDialect.ClickHouse, "streams.");
        foreach (var (name, query) in sql.All(new Analytics.Reports.ReportFilter()))
            Assert.True(guide.Contains(query, StringComparison.Ordinal), $"docs/analysts.md lacks the report's {name} query:\n{query}");
    }

    [Fact]
    public void The_configuration_reference_names_every_key_the_configuration_takes()
    {
        var reference = File.ReadAllText(Path.Combine(Streams.Tests.Repository.Root, "docs", "configuration.md"));
        string[] keys =
        [
            "kafka.bootstrap", "kafka.topic_prefix", "kafka.group_protocol", "kafka.poll_ms", "redis", "redis_prefix", "clickhouse.url", "clickhouse.database",
            "limits.per_user.day", "limits.per_user.week", "dnd.from", "dnd.action", "opt_out.help_reply", "opt_out.provider", "opt_out.from",
            "instance_id", "shutdown_grace", "profile_wait", "state_dir", "max_input_bytes",
        ];
        foreach (var key in keys) Assert.Contains($"`{key}`", reference);
        foreach (var key in ConfigKeys.ProviderKeys.Values.SelectMany(k => k).Distinct()) Assert.Contains($"`{key}`", reference);
        foreach (var type in ConfigKeys.ProviderKeys.Keys) Assert.Contains($"| `{type}` |", reference);
        // And every key the options bind: a new option without a line in the reference fails here.
        var options = typeof(StreamsOptions).GetProperties().Where(p => p.CanWrite)
            .Select(p => p.GetCustomAttributes(typeof(Microsoft.Extensions.Configuration.ConfigurationKeyNameAttribute), false)
                .Cast<Microsoft.Extensions.Configuration.ConfigurationKeyNameAttribute>().FirstOrDefault()?.Name ?? p.Name.ToLowerInvariant());
        foreach (var option in options) Assert.Contains(option, reference);
    }
}
