using Confluent.Kafka;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Kafka;
using Streamiz.Kafka.Net.Metrics;

namespace Streams.Topologies;

/// <summary>
/// Streamiz's own clients, with the admin clients kept so they can be closed. Streamiz 1.8.2 never disposes the admin
/// client of its global-store thread: after <see cref="KafkaStream.Dispose"/> that client lives on with its
/// threads, reconnecting to a cluster that may be gone (a process that starts and stops topologies, such as the test
/// suite, gathered dozens of them). <see cref="Dispose"/> closes them once the stream is disposed.
/// </summary>
public sealed class ClosingKafkaSupplier(IStreamConfig config) : IKafkaSupplier, IDisposable
{
    private readonly DefaultKafkaClientSupplier _inner = new(new KafkaLoggerAdapter(config), config);
    private readonly List<IAdminClient> _admins = [];

    public StreamMetricsRegistry MetricsRegistry
    {
        get => _inner.MetricsRegistry;
        set => _inner.MetricsRegistry = value;
    }

    public IAdminClient GetAdmin(AdminClientConfig config)
    {
        var admin = _inner.GetAdmin(config);
        lock (_admins) _admins.Add(admin);
        return admin;
    }

    public IConsumer<byte[], byte[]> GetConsumer(ConsumerConfig config, IConsumerRebalanceListener rebalanceListener) => _inner.GetConsumer(config, rebalanceListener);
    public IProducer<byte[], byte[]> GetProducer(ProducerConfig config) => _inner.GetProducer(config);
    public IConsumer<byte[], byte[]> GetRestoreConsumer(ConsumerConfig config) => _inner.GetRestoreConsumer(config);
    public IConsumer<byte[], byte[]> GetGlobalConsumer(ConsumerConfig config) => _inner.GetGlobalConsumer(config);

    /// <summary>Call after the stream is disposed: an admin client Streamiz closed itself is closed again harmlessly.</summary>
    public void Dispose()
    {
        List<IAdminClient> admins;
        lock (_admins) admins = [.. _admins];
        foreach (var admin in admins)
        {
            try { admin.Dispose(); }
            catch (ObjectDisposedException) { }
        }
    }
}
