using System.Globalization;
using System.Text;
using Streamiz.Kafka.Net.State;

namespace Streams.Topologies.State;

/// <summary>
/// Timers in a key-value store, each a value due at an instant. Keys are "prefix + due epoch-ms (15 digits) | id", so
/// the store's byte order is due order and a scan stops at the first timer that is not due; the store is
/// changelogged, so a restarted instance resumes with every timer. With an index, an id has at most one timer:
/// scheduling it again moves it, and it can be cancelled. Due times are judged on the caller's clock. One instance per
/// store owner (a task's processor): it remembers the earliest due time, so a look before it reads nothing.
/// </summary>
public sealed class DueTimers(IKeyValueStore<string, byte[]> store, string prefix = "", string? indexPrefix = null)
{
    // The earliest timer's due time (never later than it: a cancel leaves it early, which costs one empty look);
    // MaxValue when none waits; null until the store was looked at.
    private DateTimeOffset? _next;

    public void Schedule(string id, DateTimeOffset due, byte[] value)
    {
        if (indexPrefix is not null) Cancel(id);
        var key = Key(prefix, due, id);
        store.Put(key, value);
        if (indexPrefix is not null) store.Put(indexPrefix + id, Encoding.UTF8.GetBytes(key));
        if (_next is { } next && due < next) _next = due;
    }

    /// <summary>Whether a timer waits under this id (timers with an index only).</summary>
    public bool Has(string id) =>
        store.Get((indexPrefix ?? throw new InvalidOperationException("timers without an index cannot be looked up by id")) + id) is not null;

    public void Cancel(string id)
    {
        if (indexPrefix is null) throw new InvalidOperationException("timers without an index cannot be cancelled by id");
        if (store.Get(indexPrefix + id) is not { } key) return;
        store.Delete(Encoding.UTF8.GetString(key));
        store.Delete(indexPrefix + id);
    }

    /// <summary>Removes and returns every timer due at <paramref name="now"/>, earliest first.</summary>
    public IReadOnlyList<(string Id, DateTimeOffset Due, byte[] Value)> TakeDue(DateTimeOffset now)
    {
        if (_next is { } next && next > now) return [];
        var due = new List<KeyValuePair<string, byte[]>>();
        using (var range = store.Range(prefix, $"{prefix}{Due(now)}|\uffff"))
        {
            while (range.MoveNext()) due.Add(range.Current!.Value);
        }
        var taken = new List<(string, DateTimeOffset, byte[])>(due.Count);
        foreach (var (key, value) in due)
        {
            var (at, id) = Parse(prefix, key);
            store.Delete(key);
            if (indexPrefix is not null) store.Delete(indexPrefix + id);
            taken.Add((id, at, value));
        }
        _next = Earliest();
        return taken;
    }

    private DateTimeOffset Earliest()
    {
        using var range = store.Range(prefix, $"{prefix}{Due(DateTimeOffset.MaxValue)}|\uffff");
        return range.MoveNext() ? Parse(prefix, range.Current!.Value.Key).Due : DateTimeOffset.MaxValue;
    }

    /// <summary>Every waiting timer in a store read from outside its processor (the simulator's, a test's).</summary>
    public static IEnumerable<(DateTimeOffset Due, byte[] Value)> Waiting(IReadOnlyKeyValueStore<string, byte[]> store, string prefix = "")
    {
        using var range = store.Range(prefix, prefix + "\uffff");
        while (range.MoveNext())
        {
            var kv = range.Current!.Value;
            if (kv.Key.Length > prefix.Length + 15 && char.IsAsciiDigit(kv.Key[prefix.Length])) yield return (Parse(prefix, kv.Key).Due, kv.Value);
        }
    }

    private static string Due(DateTimeOffset due) => Math.Max(0, due.ToUnixTimeMilliseconds()).ToString("D15", CultureInfo.InvariantCulture);

    private static string Key(string prefix, DateTimeOffset due, string id) => $"{prefix}{Due(due)}|{id}";

    private static (DateTimeOffset Due, string Id) Parse(string prefix, string key) => (
        DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(key.AsSpan(prefix.Length, 15), CultureInfo.InvariantCulture)),
        key[(prefix.Length + 16)..]);
}
