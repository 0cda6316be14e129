using System.Diagnostics;
using Xunit.Abstractions;

namespace Streams.Cli.Tests;

/// <summary>Runs a program that is not `streams` itself (kcat, node, dotnet pack, an installed binary) and logs what it printed.</summary>
public static class Commands
{
    public static async Task<(int Exit, string Out, string Err)> RunAsync(ITestOutputHelper log, string file, string workDir, TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workDir };
        foreach (var a in args) info.ArgumentList.Add(a);
        // The test host's own build settings must not leak into a build the test starts.
        info.Environment.Remove("MSBuildExtensionsPath");
        info.Environment.Remove("MSBUILD_EXE_PATH");
        info.Environment.Remove("MSBuildSDKsPath");
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(timeout);
        var result = (process.ExitCode, await stdout, await stderr);
        log.WriteLine($"$ {Path.GetFileName(file)} {string.Join(' ', args)} → {result.ExitCode}\n{Tail(result.Item2)}{Tail(result.Item3)}");
        return result;
    }

    private static string Tail(string text) => string.Join('\n', text.Split('\n').TakeLast(15));
}
