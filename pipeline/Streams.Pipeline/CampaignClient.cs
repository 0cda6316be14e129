using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Dispatcher;
using Streams.Kafka;

namespace Streams.Pipeline;

public sealed record ApplyOutcome(CampaignRecord Record, bool Changed);

/// <summary>Campaigns as code against sms.campaigns: one record per change, keyed by id, version counting up.</summary>
/// <param name="configuration">When given, apply also refuses what this configuration cannot send (unknown provider, bad sender).</param>
public sealed class CampaignClient(string bootstrap, Topics topics, TimeProvider time, ILogger logger, StreamsOptions? configuration = null)
{
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(20);

    public Task<IReadOnlyList<CampaignEntry>> ListAsync() => CampaignCache.ReadAllAsync(bootstrap, topics, logger, ReadTimeout);

    public async Task<CampaignEntry?> GetAsync(string id) => (await ListAsync()).FirstOrDefault(e => e.Record.Id == id);

    /// <summary>Validates, refuses what the pipeline cannot honour yet, and writes a new version when the spec changed.</summary>
    public async Task<ApplyOutcome> ApplyAsync(string specText)
    {
        var parsed = CampaignSpecParser.Parse(specText);
        if (!parsed.IsValid) throw new CampaignException("invalid campaign spec: " + string.Join("; ", parsed.Problems));
        var unsupported = SupportCheck.UnsupportedPaths(parsed.Spec!, parsed.Document);
        if (unsupported.Count > 0) throw new CampaignException("not supported yet: " + string.Join(", ", unsupported));
        if (Core.Schedules.Schedule.PastProblems(parsed.Spec!, time.GetUtcNow()) is { Count: > 0 } past)
            throw new CampaignException(string.Join("; ", past));
        if (configuration is not null && CampaignChecks.AgainstConfiguration(parsed.Spec!, configuration) is { Count: > 0 } problems)
            throw new CampaignException(string.Join("; ", problems));
        if (SegmentClient.HasRefs(parsed.Spec!.Who.Segment))
        {
            // A ref must name a saved segment (the segment job evaluates it for the live path), without cycles.
            var saved = new SegmentClient(bootstrap, topics, time, logger).List();
            try
            {
                SegmentClient.CheckRefs(parsed.Spec.Who.Segment!, SegmentClient.Resolver(saved), "who.segment");
            }
            catch (Analytics.Segments.SegmentException e)
            {
                throw new CampaignException(e.Message);
            }
        }
        var json = parsed.ToJson();
        var current = await GetAsync(parsed.Spec!.Id);
        if (current is { Record.Status: CampaignStatus.Active } && current.Record.SpecJson == json)
            return new ApplyOutcome(current.Record, false);
        var record = new CampaignRecord(parsed.Spec.Id, (current?.Record.Version ?? 0) + 1, CampaignStatus.Active, json, time.GetUtcNow());
        await WriteAsync(record);
        return new ApplyOutcome(record, true);
    }

    /// <summary>
    /// pause (an active campaign), resume (a paused one only) or stop (any but a stopped one). A completed campaign
    /// has reached its reach limit and a stopped one has ended: neither resumes; the error says how to go on.
    /// </summary>
    public async Task<CampaignRecord> SetStatusAsync(string id, CampaignStatus status)
    {
        var current = await GetAsync(id) ?? throw new CampaignException($"no campaign '{id}'");
        var record = current.Record;
        if (record.Status == status) return record;
        if (record.Status == CampaignStatus.Stopped)
            throw new CampaignException($"campaign '{id}' is stopped; apply it again to start a new version");
        if (status != CampaignStatus.Stopped && record.Status == CampaignStatus.Completed)
            throw new CampaignException($"campaign '{id}' is completed: its reach limit ({current.Spec?.Who.Reach?.Limit}) is reached; raise who.reach.limit and apply it again to send more");
        if (status == CampaignStatus.Active && record.Status != CampaignStatus.Paused)
            throw new CampaignException($"campaign '{id}' is {record.Status.ToString().ToLowerInvariant()}; only a paused campaign resumes");
        var changed = record with { Version = record.Version + 1, Status = status, UpdatedAt = time.GetUtcNow() };
        await WriteAsync(changed);
        return changed;
    }

    private async Task WriteAsync(CampaignRecord record)
    {
        using var producer = KafkaClients.Producer(bootstrap);
        await topics.Campaigns.ProduceAsync(producer, record.Id, record);
    }
}

public sealed class CampaignException(string message) : Exception(message);
