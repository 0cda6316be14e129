using Confluent.Kafka;

namespace Streams.Kafka;

/// <summary>
/// librdkafka's in-process mock cluster: real Kafka protocol on 127.0.0.1, alive as long as this
/// object. Topics are created by metadata requests (4 partitions each), as the mock has no CreateTopics.
/// </summary>
public sealed class EmbeddedKafka : IDisposable
{
    private readonly IAdminClient _handle;

    public EmbeddedKafka(int brokers = 1)
    {
        var config = new AdminClientConfig { BootstrapServers = "" };
        config.Set("test.mock.num.brokers", brokers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // The mock announces itself at notice level on every start: keep warnings and errors only.
        _handle = new AdminClientBuilder(config)
            .SetLogHandler((_, m) => { if (m.Level <= SyslogLevel.Warning) Console.Error.WriteLine($"kafka mock: {m.Message}"); })
            .Build();
        var meta = _handle.GetMetadata(TimeSpan.FromSeconds(10));
        Bootstrap = string.Join(",", meta.Brokers.Select(b => $"{b.Host}:{b.Port}"));
        MockGroups.Tune(_handle.Handle, SessionTimeoutMs, HeartbeatIntervalMs);
    }

    /// <summary>
    /// The mock's consumer-protocol (KIP-848) groups: a member that stops heartbeating loses its partitions after this
    /// long (the mock's default is 30 s; a broker's is group.consumer.session.timeout.ms).
    /// </summary>
    public const int SessionTimeoutMs = 10_000;
    public const int HeartbeatIntervalMs = 1_000;

    public string Bootstrap { get; }

    public static void EnsureTopics(string bootstrap, Topics topics) => EnsureTopics(bootstrap, topics.All);

    public static void EnsureTopics(string bootstrap, IEnumerable<string> topics)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap, AllowAutoCreateTopics = true }).Build();
        foreach (var topic in topics)
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (admin.GetMetadata(topic, TimeSpan.FromSeconds(5)).Topics.Single().Partitions.Count == 0)
            {
                if (waited.Elapsed > TimeSpan.FromSeconds(10)) throw new KafkaException(ErrorCode.UnknownTopicOrPart);
                Thread.Sleep(50);
            }
        }
    }

    public void Dispose() => _handle.Dispose();
}

/// <summary>
/// The mock cluster's group settings are not client properties; librdkafka exposes them as C functions on the
/// mock cluster, reached here through the native library Confluent.Kafka loaded. Best effort: without them the
/// mock keeps its defaults.
/// </summary>
internal static class MockGroups
{
    [System.Runtime.InteropServices.UnmanagedFunctionPointer(System.Runtime.InteropServices.CallingConvention.Cdecl)]
    private delegate IntPtr MockClusterOf(IntPtr rk);

    [System.Runtime.InteropServices.UnmanagedFunctionPointer(System.Runtime.InteropServices.CallingConvention.Cdecl)]
    private delegate void SetMs(IntPtr mcluster, int ms);

    public static void Tune(Handle handle, int sessionTimeoutMs, int heartbeatIntervalMs)
    {
        try
        {
            var lib = Library();
            if (lib == IntPtr.Zero) return;
            var property = typeof(Handle).GetProperty("LibrdkafkaHandle", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public);
            if (property?.GetValue(handle) is not System.Runtime.InteropServices.SafeHandle rk) return;
            var mock = Function<MockClusterOf>(lib, "rd_kafka_handle_mock_cluster")(rk.DangerousGetHandle());
            if (mock == IntPtr.Zero) return;
            Function<SetMs>(lib, "rd_kafka_mock_set_group_consumer_session_timeout_ms")(mock, sessionTimeoutMs);
            Function<SetMs>(lib, "rd_kafka_mock_set_group_consumer_heartbeat_interval_ms")(mock, heartbeatIntervalMs);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException or InvalidOperationException)
        {
        }
    }

    private static T Function<T>(IntPtr lib, string name) where T : Delegate =>
        System.Runtime.InteropServices.Marshal.GetDelegateForFunctionPointer<T>(System.Runtime.InteropServices.NativeLibrary.GetExport(lib, name));

    /// <summary>The librdkafka build Confluent.Kafka loads on this platform (loading it again returns the same library).</summary>
    private static IntPtr Library()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "runtimes", System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier, "native");
        if (!Directory.Exists(dir)) dir = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
        foreach (var name in new[] { "librdkafka.so", "centos8-librdkafka.so", "alpine-librdkafka.so", "librdkafka.dylib" })
        {
            if (System.Runtime.InteropServices.NativeLibrary.TryLoad(Path.Combine(dir, name), out var lib)
                && System.Runtime.InteropServices.NativeLibrary.TryGetExport(lib, "rd_kafka_handle_mock_cluster", out _)) return lib;
        }
        return IntPtr.Zero;
    }
}
