using System.Diagnostics;
using Streams.Tests;
using Xunit.Abstractions;

namespace Streams.Cli.Tests;

/// <summary>
/// `streams` as people install it: the .NET tool package (dotnet tool install) and the self-contained single file, each
/// built from this checkout, answering --version and running a command that needs the whole of it (the embedded stack:
/// mock Kafka, Garnet, RocksDB through Streamiz, DuckDB).
/// </summary>
public sealed class InstallableCliTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempDir _dir = new();

    private static string Version => typeof(InstallableCliTests).Assembly.GetName().Version!.ToString(3);

    private Task<(int Exit, string Out, string Err)> Exec(string file, string workDir, params string[] args) =>
        Commands.RunAsync(log, file, workDir, TimeSpan.FromMinutes(5), args);

    private static string Cli => Path.Combine(Repository.Root, "pipeline", "Streams.Cli");

    /// <summary>
    /// What the README walks through, with this binary alone: `run --embedded` in one process, then apply, profiles,
    /// events and the report in others, until the message is delivered; then SIGTERM stops it cleanly.
    /// </summary>
    private async Task RunsTheEmbeddedStack(string streams)
    {
        var work = Path.Combine(_dir.Path, "work-" + Path.GetFileName(Path.GetDirectoryName(streams)));
        Directory.CreateDirectory(work);
        var version = await Exec(streams, work, "--version");
        Assert.Equal(0, version.Exit);
        Assert.StartsWith(Version + "+", version.Out.Trim());
        File.WriteAllText(Path.Combine(work, "welcome.yaml"), """
            id: welcome
            name: Welcome
            type: live
            who: {trigger: {event: Signed Up}}
            what: {provider: sandbox, from: "+14155550100", text: "Welcome!"}
            """);
        File.WriteAllText(Path.Combine(work, "profiles.jsonl"), """{"user_id":"u1","ts":"2026-11-01T08:00:00Z","phone":"+919876543210"}""" + "\n");
        File.WriteAllText(Path.Combine(work, "events.jsonl"), """{"user_id":"u1","name":"Signed Up","ts":"2026-12-01T10:00:00Z"}""" + "\n");
        var info = new ProcessStartInfo(streams, ["run", "--embedded"]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = work };
        using var run = Process.Start(info)!;
        var runErr = run.StandardError.ReadToEndAsync();
        try
        {
            var waited = Stopwatch.StartNew();
            while (!File.Exists(Path.Combine(work, ".streams", "embedded.json")) && !run.HasExited && waited.Elapsed < TimeSpan.FromSeconds(90)) await Task.Delay(200);
            Assert.True((await Exec(streams, work, "campaign", "apply", "-f", "welcome.yaml")).Exit == 0);
            Assert.True((await Exec(streams, work, "profiles", "send", "-f", "profiles.jsonl")).Exit == 0);
            Assert.True((await Exec(streams, work, "events", "send", "-f", "events.jsonl")).Exit == 0);
            var report = "";
            waited.Restart();
            while (!report.Contains("\"delivered\":1", StringComparison.Ordinal) && waited.Elapsed < TimeSpan.FromSeconds(90))
            {
                report = (await Exec(streams, work, "report", "--campaign", "welcome", "--format", "json")).Out;
                await Task.Delay(500);
            }
            Assert.Contains("\"sent\":1,\"delivered\":1", report);
            Process.Start("kill", ["-TERM", run.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            await run.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(0, run.ExitCode);
        }
        finally
        {
            if (!run.HasExited) run.Kill(entireProcessTree: true);
            log.WriteLine(await runErr);
        }
    }

    [Fact]
    public async Task The_dotnet_tool_package_installs_and_runs()
    {
        var packages = Path.Combine(_dir.Path, "packages");
        // The CLI as these tests were built (bin/<configuration>/): packed without building it again.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var pack = await Exec("dotnet", Repository.Root, "pack", Cli, "-c", configuration, "--no-build", "-o", packages);
        Assert.True(pack.Exit == 0, pack.Out + pack.Err);
        Assert.True(File.Exists(Path.Combine(packages, $"Streams.Cli.{Version}.nupkg")));
        var tools = Path.Combine(_dir.Path, "tools");
        var install = await Exec("dotnet", _dir.Path, "tool", "install", "--tool-path", tools, "--add-source", packages, "Streams.Cli", "--version", Version);
        Assert.True(install.Exit == 0, install.Out + install.Err);
        // The package holds the same framework-dependent build every other CLI test runs: its version and a command
        // that loads the configuration and the schemas are enough here; the single file gets the whole flow.
        var streams = Path.Combine(tools, "streams");
        var version = await Exec(streams, _dir.Path, "--version");
        Assert.StartsWith(Version + "+", version.Out.Trim());
        var schemas = await Exec(streams, _dir.Path, "schemas", "list");
        Assert.True(schemas.Exit == 0, schemas.Err);
        Assert.Contains("sms.events-value\tstreams.UserEvent", schemas.Out);
    }

    [Fact]
    public async Task The_self_contained_single_file_runs()
    {
        var output = Path.Combine(_dir.Path, "single-file");
        var publish = await Exec("dotnet", Repository.Root, "publish", Cli, "-c", "Release", "-r", "linux-x64", "-p:PublishSingleFile=true", "-o", output);
        Assert.True(publish.Exit == 0, publish.Out + publish.Err);
        Assert.Equal(["streams"], Directory.GetFiles(output).Select(Path.GetFileName).Where(f => !f!.EndsWith(".pdb", StringComparison.Ordinal)));
        await RunsTheEmbeddedStack(Path.Combine(output, "streams"));
    }

    public void Dispose() => _dir.Dispose();
}
