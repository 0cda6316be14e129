using System.Diagnostics;
using System.Text;

namespace Streams.Cli.Tests;

public sealed record CliResult(int ExitCode, string Out, string Err)
{
    public string[] ErrLines => Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>Runs the built `streams` program as a separate process in a working directory of the test's own.</summary>
public sealed class Cli : IDisposable
{
    private static readonly string Program = Path.Combine(AppContext.BaseDirectory, "streams.dll");

    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "streams-cli-tests", Guid.NewGuid().ToString("N"));

    public Cli() => Directory.CreateDirectory(Dir);

    public string File(string name, string content)
    {
        var path = Path.Combine(Dir, name);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    public Process Start(params string[] args) => Start(new Dictionary<string, string>(), args);

    /// <summary>Only the given STREAMS__ variables reach the process, so the developer's own settings never leak in.</summary>
    public Process Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = Dir, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Program);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var key in Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(k => k.StartsWith("STREAMS__", StringComparison.Ordinal)))
            info.Environment.Remove(key);
        foreach (var (key, value) in environment) info.Environment[key] = value;
        return Process.Start(info)!;
    }

    /// <summary>Reads `streams run`'s first lines up to "streams: running ..."; fails with its stderr if it stops first.</summary>
    public static async Task<List<string>> RunningAsync(Process run, TimeSpan? timeout = null)
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await run.StandardOutput.ReadLineAsync().WaitAsync(timeout ?? TimeSpan.FromSeconds(90));
            if (line is null) Assert.Fail($"streams run stopped: {string.Join(" | ", lines)} {await run.StandardError.ReadToEndAsync()}");
            lines.Add(line);
            if (line.StartsWith("streams: running", StringComparison.Ordinal)) return lines;
        }
    }

    public Task<CliResult> RunAsync(params string[] args) => RunAsync(new Dictionary<string, string>(), args);

    public async Task<CliResult> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        using var process = Start(environment, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
