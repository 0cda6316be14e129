namespace Streams.Tests;

/// <summary>The real services tests/run starts. A missing one fails the test with the reason: it never skips.</summary>
public static class Services
{
    public static string Redis => Require("STREAMS_TEST_REDIS");
    public static string ClickHouse => Require("STREAMS_TEST_CLICKHOUSE");

    /// <summary>smsbox's sendsms address; the user, password and fakesmsc's log come beside it.</summary>
    public static string Kannel => Require("STREAMS_TEST_KANNEL");
    public static string KannelUser => Require("STREAMS_TEST_KANNEL_USER");
    public static string KannelPassword => Require("STREAMS_TEST_KANNEL_PASSWORD");
    public static string KannelLog => Require("STREAMS_TEST_KANNEL_LOG");

    /// <summary>Headless Chromium (Debian's chromium package), which tests/run installs.</summary>
    public static string Chromium =>
        new[] { "chromium", "chromium-browser", "google-chrome" }
            .SelectMany(name => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(dir => Path.Combine(dir, name)))
            .FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("chromium is not installed: run the suite with tests/run, which installs it");

    /// <summary>A command-line tool tests/run installs (kcat, node).</summary>
    public static string Tool(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"{name} is not installed: run the suite with tests/run, which installs it");

    /// <summary>examples/node with its packages installed (tests/run runs npm ci there).</summary>
    public static string NodeExamples =>
        Directory.Exists(Path.Combine(Repository.Root, "examples", "node", "node_modules", "kafkajs"))
            ? Path.Combine(Repository.Root, "examples", "node")
            : throw new InvalidOperationException("examples/node has no node_modules: run the suite with tests/run, which runs npm ci there");

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } v
            ? v
            : throw new InvalidOperationException($"{name} is not set: run the suite with tests/run, which starts the service");
}
