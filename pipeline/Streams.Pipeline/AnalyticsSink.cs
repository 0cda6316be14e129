using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streams.Analytics;
using Streams.Core;
using Streams.Serdes;

namespace Streams.Pipeline;

/// <summary>
/// Copies events, profiles and results into the analytics store in batches; offsets are stored
/// after the insert, so a crash re-inserts at most one batch (reports count distinct request ids).
/// Input that does not decode is left to the topology, which dead-letters it.
/// </summary>
public sealed class AnalyticsSink(string bootstrap, Topics topics, IAnalyticsStore store, ILogger logger, int maxInputBytes, string? instanceId = null, string? groupProtocol = null)
{
    public const string GroupId = "streams-analytics-sink";
    private readonly HashSet<PropertyKey> _knownProperties = [];

    public async Task RunAsync(CancellationToken ct)
    {
        using var consumer = Dispatcher.BatchLoop.Consumer(bootstrap, GroupId, "analytics sink", logger, instanceId, groupProtocol);
        consumer.Subscribe([topics.Events, topics.Profiles, topics.Results]);
        await Dispatcher.BatchLoop.RunAsync(consumer, 5000, TimeSpan.FromMilliseconds(200), async batch =>
        {
            await WriteAsync(batch, CancellationToken.None);
            return null;
        }, ct);
    }

    private async Task WriteAsync(List<ConsumeResult<string, byte[]>> batch, CancellationToken ct)
    {
        var events = new List<UserEvent>();
        var profiles = new List<ProfileUpdate>();
        var results = new List<SmsResult>();
        foreach (var m in batch)
        {
            if (m.Topic == topics.Events && Codecs.UserEvent.TryDecode(m.Message.Value, maxInputBytes) is { Ok: true } e && e.Value!.UserId == m.Message.Key)
                events.Add(e.Value);
            else if (m.Topic == topics.Profiles && Codecs.ProfileUpdate.TryDecode(m.Message.Value, maxInputBytes) is { Ok: true } p && p.Value!.UserId == m.Message.Key)
                profiles.Add(p.Value);
            else if (m.Topic == topics.Results && Codecs.SmsResult.TryDecode(m.Message.Value, int.MaxValue) is { Ok: true } r)
                results.Add(r.Value!);
        }
        if (events.Count > 0) await store.InsertEventsAsync(events, ct);
        if (profiles.Count > 0) await store.InsertProfilesAsync(profiles, ct);
        if (results.Count > 0) await store.InsertResultsAsync(results, ct);
        var newKeys = events.SelectMany(PropertyKey.Of).Concat(profiles.SelectMany(PropertyKey.Of)).Where(k => !_knownProperties.Contains(k)).Distinct().ToList();
        if (newKeys.Count > 0)
        {
            await store.InsertPropertiesAsync(newKeys, ct);
            _knownProperties.UnionWith(newKeys);
        }
    }
}
