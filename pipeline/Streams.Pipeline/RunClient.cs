using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streams.Core.Schedules;
using Streams.Kafka;

namespace Streams.Pipeline;

/// <summary>A scheduled campaign's runs in sms.runs, and an operator's say over a held run (approve, stop).</summary>
public sealed class RunClient(string bootstrap, Topics topics, TimeProvider time, ILogger logger)
{
    /// <summary>The latest record of each run of a campaign, in occurrence order.</summary>
    public IReadOnlyList<RunRecord> List(string campaignId)
    {
        using var timeout = new CancellationTokenSource(CampaignClient.ReadTimeout);
        var latest = new Dictionary<string, RunRecord>(StringComparer.Ordinal);
        foreach (var run in TopicReader.ReadToEnd(bootstrap, topics.Runs, logger, timeout.Token))
        {
            if (run.CampaignId == campaignId) latest[run.RunId] = run;
        }
        return [.. latest.Values.OrderBy(r => r.Occurrence).ThenBy(r => r.RunId, StringComparer.Ordinal)];
    }

    /// <summary>Releases a held run: the scheduler plans it without the safety check.</summary>
    public Task<RunRecord> ApproveAsync(string campaignId, string runId) =>
        ChangeAsync(campaignId, runId, [RunStatus.Held], run => run with { Status = RunStatus.Releasing, Reason = "approved by an operator" });

    /// <summary>Ends a run that is held, releasing or being planned: nothing more of it is produced.</summary>
    public Task<RunRecord> StopAsync(string campaignId, string runId) =>
        ChangeAsync(campaignId, runId, [RunStatus.Held, RunStatus.Releasing, RunStatus.Planned], run => run with { Status = RunStatus.Skipped, Reason = "stopped by an operator" });

    private async Task<RunRecord> ChangeAsync(string campaignId, string runId, string[] from, Func<RunRecord, RunRecord> change)
    {
        var runs = List(campaignId);
        var run = runs.FirstOrDefault(r => r.RunId == runId)
            ?? throw new CampaignException($"campaign '{campaignId}' has no run '{runId}'{(runs.Count == 0 ? "" : $" (runs: {string.Join(", ", runs.TakeLast(5).Select(r => r.RunId))})")}");
        if (!from.Contains(run.Status))
            throw new CampaignException($"run '{runId}' is {run.Status}; only a run that is {string.Join(" or ", from)} can be changed so");
        var changed = change(run) with { UpdatedAt = time.GetUtcNow() };
        using var producer = KafkaClients.Producer(bootstrap, TimeSpan.FromSeconds(20));
        await producer.ProduceAsync(new TopicPartition(topics.Runs.Name, 0), topics.Runs.Message(run.RunId, changed));
        return changed;
    }
}
