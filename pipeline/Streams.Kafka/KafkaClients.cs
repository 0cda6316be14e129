using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Streams.Kafka;

/// <summary>Where Kafka is and how this process joins its consumer groups.</summary>
/// <param name="InstanceId">Static group membership (group.instance.id): a restarted instance takes its partitions
/// back without a rebalance, and a dead one's move after the session timeout.</param>
/// <param name="GroupProtocol">classic (cooperative-sticky) or consumer (KIP-848).</param>
public sealed record KafkaSettings(string Bootstrap, string? InstanceId = null, string? GroupProtocol = null);

/// <summary>The one place where producer and consumer settings are chosen.</summary>
public static class KafkaClients
{
    /// <summary>Every record acknowledged by all in-sync replicas. A <paramref name="messageTimeout"/> bounds how long
    /// a produce may wait for an absent broker (the CLI's: a person is waiting).</summary>
    public static ProducerConfig ProducerConfig(string bootstrap, TimeSpan? messageTimeout = null) => new()
    {
        BootstrapServers = bootstrap,
        Acks = Acks.All,
        LingerMs = 5,
        MessageTimeoutMs = messageTimeout is { } t ? (int)t.TotalMilliseconds : null,
    };

    public static IProducer<string, byte[]> Producer(string bootstrap, TimeSpan? messageTimeout = null) =>
        new ProducerBuilder<string, byte[]>(ProducerConfig(bootstrap, messageTimeout)).Build();

    /// <summary>
    /// A member of a consumer group whose offsets are stored only by <see cref="ConsumerPipeline"/> (after the
    /// handler finished them) and committed in the background and at close. Cooperative rebalancing keeps the other
    /// members consuming while partitions move.
    /// </summary>
    public static IConsumer<string, byte[]> GroupMember(KafkaSettings kafka, string groupId, string name, ILogger logger)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = kafka.Bootstrap,
            GroupId = groupId,
            EnableAutoCommit = true,
            AutoCommitIntervalMs = 200,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            AllowAutoCreateTopics = true,
        };
        if (kafka.GroupProtocol == "consumer")
        {
            // KIP-848: the broker assigns, incrementally; session and heartbeat are the broker's settings.
            config.GroupProtocol = GroupProtocol.Consumer;
        }
        else
        {
            config.SessionTimeoutMs = 10000;
            config.HeartbeatIntervalMs = 1000;
            config.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky;
        }
        if (kafka.InstanceId is not null) config.GroupInstanceId = kafka.InstanceId;
        return new ConsumerBuilder<string, byte[]>(config)
            .SetErrorHandler((_, e) => logger.LogWarning("{Name} consumer: {Reason}", name, e.Reason))
            // Before partitions move to another member (one joins or leaves): what this member finished is committed
            // now, so the next owner starts right after it instead of wherever the last background commit got to.
            .SetPartitionsRevokedHandler((consumer, revoked) => CommitFinished(consumer, name, logger))
            // Lost, not handed over (this member was thrown out of the group): another may own them already, so
            // nothing is committed for them.
            .SetPartitionsLostHandler((_, lost) => logger.LogWarning("{Name} consumer: lost {Count} partitions; their records are handled again by the next owner", name, lost.Count))
            .Build();
    }

    private static void CommitFinished(IConsumer<string, byte[]> consumer, string name, ILogger logger)
    {
        try
        {
            consumer.Commit();
        }
        catch (KafkaException e) when (e.Error.Code is ErrorCode.Local_NoOffset)
        {
        }
        catch (KafkaException e)
        {
            logger.LogWarning("{Name} consumer: commit before a rebalance failed ({Reason}); the last records will be handled again", name, e.Error.Reason);
        }
    }

    /// <summary>A reader that assigns partitions itself and commits nothing (the client still wants a group id).</summary>
    public static IConsumer<string, byte[]> Reader(string bootstrap, string name, ILogger logger) =>
        new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "streams-reader-" + name,
            EnableAutoCommit = false,
            AllowAutoCreateTopics = true,
        }).SetErrorHandler((_, e) => logger.LogWarning("{Name}: {Reason}", name, e.Reason)).Build();
}
