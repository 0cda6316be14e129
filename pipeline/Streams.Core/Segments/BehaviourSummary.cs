namespace Streams.Core.Segments;

/// <summary>
/// What a user did, kept beside the profile in the live topology's per-user state: per event name the
/// first and last time seen, and counts per UTC day over a bounded horizon (default 90 days, counted back
/// from the latest day this user was seen). Enough to answer <c>did</c> / <c>not did</c> with <c>count</c>
/// and <c>within</c> (in whole days) at trigger time without a database call. A horizon of H days keeps the
/// buckets of the latest day and the H days before it, so <c>within: Hd</c> (whose first day is partial) is
/// always covered. Events are expected in roughly their own order: one older than the horizon, counted back
/// from the latest day seen, is remembered as seen but not counted.
/// </summary>
public sealed class BehaviourSummary
{
    public const int DefaultHorizonDays = 90;
    private const byte FormatVersion = 1;

    private readonly Dictionary<string, EventStats> _events = new(StringComparer.Ordinal);

    public sealed class EventStats
    {
        public DateTimeOffset First { get; internal set; }
        public DateTimeOffset Last { get; internal set; }

        /// <summary>UTC day number (days since 1970-01-01) → count.</summary>
        public SortedDictionary<int, long> Days { get; } = [];
    }

    /// <summary>The latest UTC day any event of this user fell on; the horizon counts back from it.</summary>
    public int LatestDay { get; private set; } = int.MinValue;

    public IReadOnlyDictionary<string, EventStats> Events => _events;

    public static int DayOf(DateTimeOffset t) => (int)Math.Floor(t.ToUnixTimeMilliseconds() / 86_400_000d);

    public void Record(string name, DateTimeOffset ts, int horizonDays = DefaultHorizonDays)
    {
        if (!_events.TryGetValue(name, out var stats))
        {
            stats = new EventStats { First = ts, Last = ts };
            _events[name] = stats;
        }
        if (ts < stats.First) stats.First = ts;
        if (ts > stats.Last) stats.Last = ts;
        var day = DayOf(ts);
        LatestDay = Math.Max(LatestDay, day);
        var oldest = LatestDay - horizonDays;
        if (day >= oldest) stats.Days[day] = stats.Days.GetValueOrDefault(day) + 1;
        foreach (var s in _events.Values)
        {
            while (s.Days.Count > 0 && s.Days.Keys.First() < oldest) s.Days.Remove(s.Days.Keys.First());
        }
    }

    /// <summary>Events of this name on the UTC days from <paramref name="fromDay"/> to <paramref name="toDay"/>, both included.</summary>
    public long Count(string name, int fromDay, int toDay)
    {
        if (!_events.TryGetValue(name, out var stats)) return 0;
        long n = 0;
        foreach (var (day, count) in stats.Days)
        {
            if (day > toDay) break;
            if (day >= fromDay) n += count;
        }
        return n;
    }

    public bool Ever(string name) => _events.ContainsKey(name);

    public byte[] Encode()
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer))
        {
            w.Write(FormatVersion);
            w.Write(LatestDay);
            w.Write(_events.Count);
            foreach (var (name, s) in _events)
            {
                w.Write(name);
                w.Write(s.First.ToUnixTimeMilliseconds());
                w.Write(s.Last.ToUnixTimeMilliseconds());
                w.Write(s.Days.Count);
                foreach (var (day, count) in s.Days)
                {
                    w.Write(day);
                    w.Write(count);
                }
            }
        }
        return buffer.ToArray();
    }

    public static BehaviourSummary Decode(byte[] bytes)
    {
        var summary = new BehaviourSummary();
        using var r = new BinaryReader(new MemoryStream(bytes));
        var version = r.ReadByte();
        if (version != FormatVersion) throw new InvalidDataException($"behaviour summary format {version} is not {FormatVersion}");
        summary.LatestDay = r.ReadInt32();
        var events = r.ReadInt32();
        for (var i = 0; i < events; i++)
        {
            var name = r.ReadString();
            var stats = new EventStats
            {
                First = DateTimeOffset.FromUnixTimeMilliseconds(r.ReadInt64()),
                Last = DateTimeOffset.FromUnixTimeMilliseconds(r.ReadInt64()),
            };
            var days = r.ReadInt32();
            for (var d = 0; d < days; d++) stats.Days[r.ReadInt32()] = r.ReadInt64();
            summary._events[name] = stats;
        }
        return summary;
    }
}
