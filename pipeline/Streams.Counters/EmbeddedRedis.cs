using System.Net;
using System.Net.Sockets;
using Garnet;

namespace Streams.Counters;

/// <summary>
/// An in-process Redis-compatible server (Microsoft Garnet) for embedded mode: the counters run the same Lua
/// scripts as against a real Redis. With a data directory it keeps an append-only file there and recovers it at
/// start, so counters, claims and consent survive a restart; without one it lives in memory only.
/// Lua scripts run as transactions (keys locked for the script), which is what makes them atomic across clients.
/// </summary>
public sealed class EmbeddedRedis : IDisposable
{
    private static readonly object ConsoleLock = new();
    private readonly GarnetServer _server;

    private readonly bool _persistent;

    private EmbeddedRedis(GarnetServer server, int port, bool persistent)
    {
        _server = server;
        Port = port;
        _persistent = persistent;
    }

    public int Port { get; }

    /// <summary>host:port, as StackExchange.Redis takes it.</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    public static EmbeddedRedis Start(string? dataDir)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var args = new List<string> { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--lua", "--lua-transaction-mode" };
            if (dataDir is not null)
            {
                Directory.CreateDirectory(dataDir);
                // The native storage device needs libaio, which Debian 12 lacks: RandomAccess uses plain file I/O.
                args.AddRange(["--aof", "--storage-tier", "--device-type", "RandomAccess", "--checkpointdir", dataDir, "--logdir", dataDir, "--recover"]);
            }
            try
            {
                // Garnet prints a banner on stdout, where a command's own output goes.
                lock (ConsoleLock)
                {
                    var stdout = Console.Out;
                    Console.SetOut(TextWriter.Null);
                    try
                    {
                        var server = new GarnetServer([.. args], Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
                        server.Start();
                        return new EmbeddedRedis(server, port, dataDir is not null);
                    }
                    finally
                    {
                        Console.SetOut(stdout);
                    }
                }
            }
            catch (Exception e) when (attempt < 5 && e is SocketException or IOException or InvalidOperationException)
            {
                // Another process took the port between our probe and Garnet's bind.
            }
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>A store on this server: the same Lua scripts and semantics as on Redis.</summary>
    public Task<RedisCounterStore> ConnectAsync(string prefix = "streams:") => RedisCounterStore.ConnectAsync(Endpoint, prefix);

    public void Dispose()
    {
        // A checkpoint at a clean stop keeps the next start's replay of the append-only file short.
        if (_persistent)
        {
            try
            {
                using var redis = StackExchange.Redis.ConnectionMultiplexer.Connect(Endpoint + ",allowAdmin=true,connectTimeout=2000");
                // SAVE blocks the server until the checkpoint is written, which is what a clean stop wants.
#pragma warning disable CS0618
                redis.GetServer(Endpoint).Save(StackExchange.Redis.SaveType.ForegroundSave);
#pragma warning restore CS0618
            }
            catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException)
            {
            }
        }
        _server.Dispose();
    }
}
