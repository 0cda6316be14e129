using Microsoft.Extensions.Hosting;

namespace Streams.Pipeline.Roles;

/// <summary>
/// One role of the pipeline (topology, dispatcher, sink) as a hosted service. Starting starts its loops; stopping
/// stops taking work (a SIGTERM lands here) and waits for what is in flight until the token the host gives gets
/// cancelled (its shutdown deadline), when even calls in flight give up.
/// </summary>
public abstract class PipelineRole : IHostedService
{
    private readonly List<Task> _loops = [];

    /// <summary>Stop taking work.</summary>
    protected CancellationTokenSource Stopping { get; } = new();

    /// <summary>Give up on what is in flight.</summary>
    protected CancellationTokenSource Abandoning { get; } = new();

    /// <summary>Faults of the role's loops, as they happen.</summary>
    public IReadOnlyList<Task> Loops => _loops;

    protected void Run(Func<Task> loop) => _loops.Add(Task.Run(loop));

    protected void Run(Task loop) => _loops.Add(loop);

    public abstract Task StartAsync(CancellationToken cancellationToken);

    private readonly object _gate = new();
    private Task? _stopped;

    /// <summary>Stops once: a host that stops its services and the pipeline that owns them may both ask.</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_gate) return _stopped ??= StopOnceAsync(cancellationToken);
    }

    private async Task StopOnceAsync(CancellationToken cancellationToken)
    {
        await Stopping.CancelAsync();
        await using (cancellationToken.Register(Abandoning.Cancel))
        {
            // A loop that faulted already reported it through Loops; stopping must still release everything.
            try { await Task.WhenAll(_loops).WaitAsync(cancellationToken); }
            catch (Exception) { }
        }
        // Past the deadline, loops that still run are given a moment to notice the abandon before what they use goes.
        try { await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(5)); }
        catch (Exception) { }
        Release();
        Stopping.Dispose();
        Abandoning.Dispose();
    }

    /// <summary>What the role owns, released once its loops ended.</summary>
    protected virtual void Release()
    {
    }
}
