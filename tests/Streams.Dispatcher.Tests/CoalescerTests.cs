namespace Streams.Dispatcher.Tests;

/// <summary>Records of provider calls that end together go to Redis in one write.</summary>
public sealed class CoalescerTests
{
    [Fact]
    public async Task The_first_write_goes_at_once_and_those_that_come_meanwhile_go_together_after_it()
    {
        var writes = new List<IReadOnlyList<int>>();
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var coalescer = new Coalescer<int>(async batch =>
        {
            lock (writes) writes.Add(batch);
            if (batch.Contains(1)) await first.Task;
        });

        var one = coalescer.WriteAsync(1);
        var others = new[] { coalescer.WriteAsync(2), coalescer.WriteAsync(3), coalescer.WriteAsync(4) };
        Assert.False(one.IsCompleted);
        Assert.All(others, t => Assert.False(t.IsCompleted));
        first.SetResult();
        await Task.WhenAll([one, .. others]).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([[1], [2, 3, 4]], writes.Select(w => w.ToArray()));
    }

    [Fact]
    public async Task A_failed_write_fails_each_of_its_callers_and_the_next_write_goes_on()
    {
        var coalescer = new Coalescer<int>(batch => batch.Contains(1) ? Task.FromException(new InvalidOperationException("redis gone")) : Task.CompletedTask);

        await Assert.ThrowsAsync<InvalidOperationException>(() => coalescer.WriteAsync(1));
        await coalescer.WriteAsync(2).WaitAsync(TimeSpan.FromSeconds(10));
    }
}
