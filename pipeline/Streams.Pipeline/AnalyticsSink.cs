using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streams.Analytics;
using Streams.Core;
using Streams.Kafka;

namespace Streams.Pipeline;

/// <summary>
/// Copies events, profiles, requests (and their waits), results and conversions into the analytics store in batches; offsets are stored
/// after the insert, so a crash re-inserts at most one batch (reports count distinct request ids).
/// Input that does not decode is left to the topology, which dead-letters it.
/// </summary>
public sealed class AnalyticsSink(KafkaSettings kafka, Topics topics, IAnalyticsStore store, ILogger logger, int maxInputBytes)
{
    public const string GroupId = "streams-analytics-sink";
    private readonly HashSet<PropertyKey> _knownProperties = [];

    public async Task RunAsync(CancellationToken ct)
    {
        var pipeline = new ConsumerPipeline("analytics sink", logger) { MaxBatch = 5000, FirstWait = TimeSpan.FromMilliseconds(200) }
            .Read(topics.Events, Undecodable.Skip, maxInputBytes)
            .Read(topics.Profiles, Undecodable.Skip, maxInputBytes)
            .Read(topics.Results, Undecodable.Skip)
            .Read(topics.Requests, Undecodable.Skip)
            .Read(topics.Scheduled, Undecodable.Skip)
            .Read(topics.Conversions, Undecodable.Skip);
        await pipeline.RunAsync(kafka, GroupId, async batch =>
        {
            await WriteAsync(batch, CancellationToken.None);
            return null;
        }, ct);
    }

    private async Task WriteAsync(IReadOnlyList<Received> batch, CancellationToken ct)
    {
        var events = new List<UserEvent>();
        var profiles = new List<ProfileUpdate>();
        var results = new List<SmsResult>();
        var requests = new List<RequestRow>();
        var conversions = new List<ConversionRecord>();
        foreach (var record in batch)
        {
            // A key that is not the user id is refused (and dead-lettered) by the topology: it is not stored either.
            switch (record.Value)
            {
                case UserEvent e when e.UserId == record.Key: events.Add(e); break;
                case ProfileUpdate p when p.UserId == record.Key: profiles.Add(p); break;
                case SmsResult r: results.Add(r); break;
                case SmsRequest q: requests.Add(RequestRow.Of(q)); break;
                case ScheduledRequest w: requests.Add(RequestRow.Of(w)); break;
                case ConversionRecord c: conversions.Add(c); break;
            }
        }
        if (events.Count > 0) await store.InsertEventsAsync(events, ct);
        if (profiles.Count > 0) await store.InsertProfilesAsync(profiles, ct);
        if (results.Count > 0) await store.InsertResultsAsync(results, ct);
        if (requests.Count > 0) await store.InsertRequestsAsync(requests, ct);
        if (conversions.Count > 0) await store.InsertConversionsAsync(conversions, ct);
        var newKeys = events.SelectMany(PropertyKey.Of).Concat(profiles.SelectMany(PropertyKey.Of)).Where(k => !_knownProperties.Contains(k)).Distinct().ToList();
        if (newKeys.Count > 0)
        {
            await store.InsertPropertiesAsync(newKeys, ct);
            _knownProperties.UnionWith(newKeys);
        }
    }
}
