using Microsoft.Extensions.Logging.Abstractions;
using Streams.Core.Schedules;
using Streams.Jobs.Scheduling;
using Streams.Kafka;
using Streams.Tests;

namespace Streams.Pipeline.Tests;

/// <summary>The scheduler's view of sms.runs on the mock cluster.</summary>
public sealed class RunLogTests
{
    [Fact]
    public async Task A_scheduler_reading_back_its_own_records_never_goes_back_to_an_older_state()
    {
        var topics = Topics.Default;
        using var kafka = new EmbeddedKafka();
        EmbeddedKafka.EnsureTopics(kafka.Bootstrap, topics);
        using var producer = KafkaClients.Producer(kafka.Bootstrap);
        await using var log = new KafkaRunLog(new KafkaSettings(kafka.Bootstrap, GroupProtocol: "consumer"), topics, producer, NullLogger.Instance);
        await Eventually.Async(() => log.IsOwner, owner => owner);

        // Sub-millisecond instants, as the system clock gives them: sms.runs keeps milliseconds.
        var at = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero).AddTicks(1234);
        var planned = new RunRecord("c@now", "c", 1, at, RunStatus.Planned, at, Qualified: 10, Planned: 5, Cursor: "u5");
        Assert.True(await log.SaveAsync(planned, CancellationToken.None));
        Assert.True(await log.SaveAsync(planned with { Status = RunStatus.Done, UpdatedAt = at.AddTicks(5678), Planned = 10, Cursor = null }, CancellationToken.None));

        // Both records come back through the log's own consumer.
        await Eventually.Async(() => log.RecordsRead, n => n == 2);
        Assert.Equal((RunStatus.Done, 10L), (log.Get("c@now")!.Status, log.Get("c@now")!.Planned));
    }
}
