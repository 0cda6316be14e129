using System.Diagnostics;
using System.Globalization;

namespace Streams.Chaos;

/// <summary>One `streams run` process of the chaos run: started, killed (SIGKILL) or stopped (SIGTERM), started again.</summary>
public sealed class PipelineProcess(string name, string workDir, string config, string[] roles, TextWriter log)
{
    private static readonly string Program = Path.Combine(AppContext.BaseDirectory, "streams.dll");
    private Process? _process;

    public string Name => name;
    public bool Running => _process is { HasExited: false };
    public int Starts { get; private set; }

    public async Task StartAsync()
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(Program);
        foreach (var a in (string[])["run", "--config", config, "--roles", .. roles]) info.ArgumentList.Add(a);
        foreach (var key in Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(k => k.StartsWith("STREAMS__", StringComparison.Ordinal)))
            info.Environment.Remove(key);
        info.Environment["STREAMS__INSTANCE_ID"] = name;
        var process = Process.Start(info)!;
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            if (e.Data.StartsWith("streams: running", StringComparison.Ordinal)) running.TrySetResult();
            lock (log) log.WriteLine($"[{DateTimeOffset.UtcNow:HH:mm:ss.fff}] {name}: {e.Data}");
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line) lock (log) log.WriteLine($"[{DateTimeOffset.UtcNow:HH:mm:ss.fff}] {name}: {line}");
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        Starts++;
        var started = await Task.WhenAny(running.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(90)));
        if (started != running.Task) throw new InvalidOperationException($"{name} did not start (exit {(process.HasExited ? process.ExitCode : -1)})");
    }

    /// <summary>SIGKILL: the process dies mid-whatever.</summary>
    public async Task KillAsync()
    {
        if (_process is not { HasExited: false } p) return;
        p.Kill();
        await p.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as a deploy sends it; returns the exit code and how long the stop took.</summary>
    public async Task<(int ExitCode, TimeSpan Took)> TerminateAsync(TimeSpan deadline)
    {
        if (_process is not { HasExited: false } p) return (0, TimeSpan.Zero);
        var clock = Stopwatch.StartNew();
        Process.Start("kill", ["-TERM", p.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
        var exited = await Task.WhenAny(p.WaitForExitAsync(), Task.Delay(deadline));
        if (!p.HasExited)
        {
            p.Kill();
            await p.WaitForExitAsync();
            return (-1, clock.Elapsed);
        }
        return (p.ExitCode, clock.Elapsed);
    }
}
