using System.CommandLine;
using Streams.Cli.Commands;

namespace Streams.Cli;

/// <summary>The `streams` command tree. Every failure ends as one line on stderr and a non-zero exit code.</summary>
public static class StreamsCli
{
    public static readonly Option<string?> Config = new("--config")
    {
        Description = "Global configuration file (YAML; default: the STREAMS_CONFIG environment variable); STREAMS__SECTION__KEY environment variables override it",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("STREAMS_CONFIG") is { Length: > 0 } file ? file : null,
    };

    public static RootCommand Build(TextWriter output)
    {
        var root = new RootCommand("Streams: SMS campaigns on Kafka") { Config };
        root.Subcommands.Add(RunCommands.Demo(output));
        root.Subcommands.Add(RunCommands.Run(output));
        root.Subcommands.Add(CampaignCommands.Build(output));
        root.Subcommands.Add(SegmentCommands.Build(output));
        root.Subcommands.Add(GenerateCommand.Build(output));
        root.Subcommands.Add(DataCommands.Send("events", "Produce user events from a JSONL file to sms.events", output));
        root.Subcommands.Add(DataCommands.Send("profiles", "Produce profile updates from a JSONL file to sms.profiles", output));
        root.Subcommands.Add(SimulateCommand.Build(output));
        root.Subcommands.Add(ReportCommands.Report(output));
        root.Subcommands.Add(ReportCommands.Why(output));
        root.Subcommands.Add(DataCommands.Topics(output));
        root.Subcommands.Add(DataCommands.ClickHouse(output));
        root.Subcommands.Add(SchemaCommands.Build(output));
        return root;
    }

    /// <summary>A token cancelled by SIGINT or SIGTERM, for commands that run until stopped.</summary>
    public static CancellationTokenSource Shutdown(CancellationToken outer, out IDisposable registrations)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(outer);
        void Stop(System.Runtime.InteropServices.PosixSignalContext context)
        {
            context.Cancel = true;
            cts.Cancel();
        }
        var signals = new[]
        {
            System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Stop),
            System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Stop),
        };
        registrations = new Registrations(signals);
        return cts;
    }

    private sealed class Registrations(IDisposable[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var item in items) item.Dispose();
        }
    }

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var root = Build(output);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            await error.WriteLineAsync($"streams: {CliErrors.OneLine(parsed.Errors[0].Message)} (see --help)");
            return 2;
        }
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration
            {
                Output = output,
                Error = error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null, // long-running commands handle SIGINT/SIGTERM themselves (Shutdown)
            });
        }
        catch (Exception e) when (CliErrors.IsExpected(e))
        {
            await error.WriteLineAsync($"streams: {CliErrors.OneLine(e)}");
            return 1;
        }
    }
}
