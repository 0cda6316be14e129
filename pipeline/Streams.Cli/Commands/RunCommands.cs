using System.CommandLine;
using System.Text.Json;
using Streams.Pipeline;
using Streams.Pipeline.Hosting;

namespace Streams.Cli.Commands;

public static class RunCommands
{
    public static Command Run(TextWriter output)
    {
        var embedded = new Option<bool>("--embedded")
        {
            Description = "Replace the configured Kafka, Redis and ClickHouse with embedded ones (mock Kafka cluster, in-process Redis-compatible counters, DuckDB), kept in state_dir; every other section (limits, dnd, opt_out, providers, ...) applies as configured",
        };
        var roles = new Option<string[]>("--roles")
        {
            Description = "Roles to run (default all): topology, attribution, dispatcher, sink, scheduler (with the embedded DuckDB the scheduler runs beside the sink)",
            AllowMultipleArgumentsPerToken = true,
        };
        roles.AcceptOnlyFromAmong("topology", "attribution", "dispatcher", "sink", "scheduler");
        var http = new Option<string>("--http") { Description = "HTTP listen URL", DefaultValueFactory = _ => "http://127.0.0.1:0" };
        var command = new Command("run", "Run the pipeline until interrupted") { embedded, roles, http };
        command.SetAction(async (parse, outer) =>
        {
            using var shutdown = StreamsCli.Shutdown(outer, out var signals);
            using var _ = signals;
            var ct = shutdown.Token;
            var context = CliContext.From(parse);
            var options = parse.GetValue(embedded) ? context.Options.WithEmbeddedBackends() : context.Options;
            // A second `streams run` beside one that holds an embedded stack joins it (its Kafka and its counters),
            // so roles can run as separate processes over one state dir.
            if (options.Kafka.Bootstrap is null && await context.LiveEmbeddedAsync() is { } running)
            {
                if (parse.GetValue(embedded))
                    throw new CliException($"an embedded stack is already running in {Path.GetFullPath(options.StateDir)} ({running.Http}); stop it, or run without --embedded to join it");
                // The holder's embedded counters when it has them, else the Redis both are configured with.
                var (redis, clickhouse) = (running.Redis ?? options.Redis, options.ClickHouse);
                options = options.WithEmbeddedBackends();
                (options.Kafka.Bootstrap, options.Kafka.GroupProtocol, options.Redis, options.ClickHouse) = (running.Kafka, running.GroupProtocol, redis, clickhouse);
                output.WriteLine($"streams: joining the embedded stack in {Path.GetFullPath(options.StateDir)} (kafka {running.Kafka}, counters {redis})");
            }
            var selected = parse.GetValue(roles) is { Length: > 0 } r
                ? r.Aggregate((PipelineRoles)0, (acc, s) => acc | Enum.Parse<PipelineRoles>(s, ignoreCase: true))
                : PipelineRoles.All;
            using var loggers = CliContext.Loggers();
            await using var host = await PipelineHost.StartAsync(options, loggers, TimeProvider.System, new PipelineHostOptions { Roles = selected }, ct, startRoles: false);
            await using var web = await StreamsWebHost.StartAsync(host, parse.GetValue(http)!, ct, runRoles: true);
            var file = Path.Combine(options.StateDir, "embedded.json");
            if (host.EmbeddedKafka)
            {
                // Written whole then renamed, so another command never reads half a file.
                await File.WriteAllTextAsync(file + ".tmp", JsonSerializer.Serialize(new CliContext.EmbeddedInfo(host.Bootstrap, StreamsWebHost.Address(web), host.EmbeddedRedisEndpoint, host.GroupProtocol), CliContext.Json), ct);
                File.Move(file + ".tmp", file, overwrite: true);
            }
            if (host.EmbeddedKafka)
            {
                var dir = Path.GetFullPath(options.StateDir);
                output.WriteLine($"streams: embedded stack in {dir}: Kafka topics and group offsets in kafka/ ({host.RestoredRecords} records restored), counters and consent in redis/, analytics in analytics.duckdb, Streamiz stores rebuilt from their changelogs");
                output.WriteLine("streams: a clean stop (Ctrl+C, SIGTERM) keeps everything; a SIGKILL can lose the Kafka records of its last moment");
            }
            output.WriteLine($"streams: running {selected} (kafka {host.Bootstrap}, http {StreamsWebHost.Address(web)}); Ctrl+C to stop");
            try
            {
                await host.Completion.WaitAsync(ct);
                throw new CliException("the pipeline stopped");
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                output.WriteLine("streams: stopping");
                return 0;
            }
            finally
            {
                // The host stops the roles (in-flight work finishes within shutdown_grace) and the HTTP side; the
                // backends go after them, when the pipeline is disposed.
                await web.StopAsync(CancellationToken.None);
                if (host.EmbeddedKafka) File.Delete(file);
            }
        });
        return command;
    }

    public static Command Demo(TextWriter output)
    {
        var seconds = new Option<int>("--seconds") { Description = "How long events flow", DefaultValueFactory = _ => 30 };
        var users = new Option<int>("--users") { Description = "Synthetic users", DefaultValueFactory = _ => 1000 };
        var command = new Command("demo", "Embedded everything: two demo campaigns, synthetic users and events, live progress, then the funnel")
        {
            seconds, users,
        };
        command.SetAction(async (parse, outer) =>
        {
            using var shutdown = StreamsCli.Shutdown(outer, out var signals);
            using var _ = signals;
            var ct = shutdown.Token;
            var context = CliContext.From(parse);
            var demo = new Demo(context.Options.WithEmbeddedBackends(), output, parse.GetValue(users), TimeSpan.FromSeconds(parse.GetValue(seconds)), TimeProvider.System);
            return await demo.RunAsync(ct);
        });
        return command;
    }

}
