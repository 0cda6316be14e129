namespace Streams.Dispatcher;

/// <summary>
/// Writes that come while one is under way wait for it and then go together in one: the first goes at once (no
/// added wait), and under load many small writes (one per provider call) become few. Each caller's task completes
/// when its own write has landed, or fails with that write's error.
/// </summary>
public sealed class Coalescer<T>(Func<IReadOnlyList<T>, Task> write)
{
    private readonly object _lock = new();
    private List<(T Item, TaskCompletionSource Done)> _waiting = [];
    private bool _writing;

    public Task WriteAsync(T item)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _waiting.Add((item, done));
            if (_writing) return done.Task;
            _writing = true;
        }
        _ = DrainAsync();
        return done.Task;
    }

    private async Task DrainAsync()
    {
        while (true)
        {
            List<(T Item, TaskCompletionSource Done)> batch;
            lock (_lock)
            {
                if (_waiting.Count == 0)
                {
                    _writing = false;
                    return;
                }
                batch = _waiting;
                _waiting = [];
            }
            try
            {
                await write([.. batch.Select(b => b.Item)]);
                foreach (var (_, done) in batch) done.TrySetResult();
            }
            catch (Exception e)
            {
                foreach (var (_, done) in batch) done.TrySetException(e);
            }
        }
    }
}
