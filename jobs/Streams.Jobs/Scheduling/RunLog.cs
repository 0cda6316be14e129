using Streams.Core.Schedules;

namespace Streams.Jobs.Scheduling;

/// <summary>The runs as sms.runs holds them, and whether this scheduler is the one that plans.</summary>
public interface IRunLog
{
    /// <summary>This scheduler owns sms.runs and has read it to its end: it alone plans.</summary>
    bool IsOwner { get; }

    IReadOnlyCollection<RunRecord> Runs { get; }

    RunRecord? Get(string runId);

    /// <summary>Records a run's state; false when this scheduler no longer owns the runs (its write may still land, harmlessly: ids are stable).</summary>
    Task<bool> SaveAsync(RunRecord run, CancellationToken ct);
}

/// <summary>The runs in memory, always owned: the simulator's and the tests'.</summary>
public sealed class MemoryRunLog : IRunLog
{
    private readonly Dictionary<string, RunRecord> _runs = new(StringComparer.Ordinal);

    public bool IsOwner => true;

    public IReadOnlyCollection<RunRecord> Runs => _runs.Values;

    public RunRecord? Get(string runId) => _runs.GetValueOrDefault(runId);

    public List<RunRecord> Saved { get; } = [];

    public Task<bool> SaveAsync(RunRecord run, CancellationToken ct)
    {
        _runs[run.RunId] = run;
        Saved.Add(run);
        return Task.FromResult(true);
    }
}
