using Streams.Core;
using Streams.Core.Campaigns;

namespace Streams.Jobs.Scheduling;

/// <summary>Who of a run's qualified users gets a request, and how many were cut at each step.</summary>
/// <param name="Chosen">Null when every qualified user is chosen (no percent, limit or run_limit cut anyone).</param>
public sealed record RunSelection(IReadOnlySet<string>? Chosen, long NotSampled, long OverLimit)
{
    public bool Has(string user) => Chosen is null || Chosen.Contains(user);

    /// <summary>
    /// <c>percent</c> (the dispatcher's own stable sample), then <c>limit</c> (the N of the campaign's stable draw: the
    /// same users run after run, so no more than N distinct users ever; the dispatcher's reach counter enforces it
    /// exactly), then <c>run_limit</c> (a stable random N of this run). Pure: the same audience gives the same choice.
    /// </summary>
    public static RunSelection Of(IReadOnlyList<string> qualified, CampaignSpec spec, string runId)
    {
        var reach = spec.Who.Reach;
        if (reach?.Percent is null && (reach?.Limit is null || qualified.Count <= reach.Limit) && (reach?.RunLimit is null || qualified.Count <= reach.RunLimit))
            return new RunSelection(null, 0, 0);
        IEnumerable<string> sampled = reach?.Percent is { } percent ? qualified.Where(u => Sampling.Sampled(spec.Id, u, percent)) : qualified;
        var kept = sampled.ToList();
        var notSampled = qualified.Count - kept.Count;
        var afterSample = kept.Count;
        if (reach?.Limit is { } limit && kept.Count > limit)
            kept = [.. kept.OrderBy(u => Sampling.LimitRank(spec.Id, u)).ThenBy(u => u, StringComparer.Ordinal).Take((int)limit)];
        if (reach?.RunLimit is { } runLimit && kept.Count > runLimit)
            kept = [.. kept.OrderBy(u => Sampling.RunLimitRank(runId, u)).ThenBy(u => u, StringComparer.Ordinal).Take((int)runLimit)];
        return new RunSelection(kept.ToHashSet(StringComparer.Ordinal), notSampled, afterSample - kept.Count);
    }
}
